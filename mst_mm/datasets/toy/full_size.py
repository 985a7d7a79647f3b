"""Synthetic data at the real datasets' sizes and in their real layouts.

For the smoke run of the full benchmark (``tools/run_benchmark.py --preset full
--smoke``): the full configs read it where they read the real datasets, at the real
image sizes, so every model runs at its real input size. The pictures are the toy
shapes (``painter``), each shape class standing for one class of the dataset; what is
measured is that every stage runs, loads, evaluates and reports, not what it learns.

* ``imagenet/``: ``train/`` and ``val/`` class folders of 500x375-like JPEGs and
  ``meta/{train,val}.txt`` with labels among ImageNet's 1000 (mmpretrain ``ImageNet``).
* ``coco/``: ``{train,val}2017/`` 640x480-like JPEGs and
  ``annotations/instances_{train,val}2017.json`` with COCO's 80 categories and their
  ids, instances as polygons, one as compressed RLE, and a crowd region as
  uncompressed RLE (``iscrowd=1``), as COCO holds them.
* ``cityscapes/``: ``leftImg8bit/`` 2048x1024 PNGs and ``gtFine/`` ``labelTrainIds``
  (19 classes, 255 ignored), ``labelIds`` and ``instanceIds`` maps.
* ``ade/ADEChallengeData2016/``: ``images/`` and ``annotations/`` (reduced labels: 0
  "other", 1-150 the classes) of 683x512-like images.
"""
import json
from pathlib import Path
from typing import Dict, List, Sequence, Tuple, Union

import cv2
import numpy as np
from cityscapesscripts.helpers.labels import trainId2label
from pycocotools import mask as mask_utils

from .generate import prepare_out_dir
from .painter import BACKGROUND_GREY, generate_object_image, generate_scene
from .shapes import CLASSES
from .writers import JPEG_PARAMS, write_bytes, write_png

# The real datasets' image sizes (width, height), cycled over the images.
IMAGENET_SIZES = ((500, 375), (500, 333), (375, 500))
COCO_SIZES = ((640, 480), (640, 427), (480, 640), (612, 612))
CITYSCAPES_SIZE = (2048, 1024)
ADE20K_SIZES = ((683, 512), (512, 683), (640, 480))
NUM_SHAPES = (3, 6)
META_FILE = 'full_size_data.json'
DATASET_DIRS = ('imagenet', 'coco', 'cityscapes', 'ade')
FORMAT_VERSION = 1  # bump when the output changes

# The class each shape class stands for: ImageNet labels, COCO category indices
# (into mmdet's 80 classes), Cityscapes train ids, ADE20K reduced labels. The
# background is road in Cityscapes and wall (1) in ADE20K.
IMAGENET_LABELS = (0, 207, 404, 611, 818)
COCO_CLASS_INDICES = (0, 2, 15, 39, 56)  # person, car, cat, bottle, chair
CITYSCAPES_TRAIN_IDS = (11, 13, 5, 7, 8)  # person, car, pole, traffic sign, vegetation
CITYSCAPES_BACKGROUND = 0  # road
ADE20K_LABELS = (13, 21, 20, 16, 5)  # person, car, chair (+1 each), ...
ADE20K_BACKGROUND = 1  # wall
# COCO's 80 category ids (1-90 with gaps), in the order of mmdet's class names.
COCO_CATEGORY_IDS = (
    1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25,
    27, 28, 31, 32, 33, 34, 35, 36, 37, 38, 39, 40, 41, 42, 43, 44, 46, 47, 48, 49, 50, 51,
    52, 53, 54, 55, 56, 57, 58, 59, 60, 61, 62, 63, 64, 65, 67, 70, 72, 73, 74, 75, 76, 77,
    78, 79, 80, 81, 82, 84, 85, 86, 87, 88, 89, 90)
SPLITS = {'train': ('train', 'train2017', 'training', 'ADE_train'),
          'val': ('val', 'val2017', 'validation', 'ADE_val')}


def make_full_size_data(out_dir: Union[str, Path], num_train: int = 4, num_val: int = 2,
                        seed: int = 0, datasets: Sequence[str] = DATASET_DIRS
                        ) -> Dict[str, str]:
    """Write ``num_train`` and ``num_val`` images of each of ``datasets`` under
    ``out_dir`` (or keep an up-to-date copy); return the dataset folders.
    Deterministic."""
    out = Path(out_dir)
    datasets = tuple(datasets)
    unknown = set(datasets) - set(DATASET_DIRS)
    if unknown:
        raise ValueError(f'unknown datasets {sorted(unknown)}: choose from {DATASET_DIRS}')
    meta = dict(format=FORMAT_VERSION, seed=seed, num_train=num_train, num_val=num_val,
                datasets=list(datasets))
    if not prepare_out_dir(out, meta, force=False, meta_file=META_FILE,
                           dataset_dirs=datasets):
        write_all(out, num_train, num_val, seed, datasets)
        (out / META_FILE).write_text(json.dumps(meta))
    return dict(imagenet=str(out / 'imagenet'), coco=str(out / 'coco'),
                cityscapes=str(out / 'cityscapes'),
                ade20k=str(out / 'ade' / 'ADEChallengeData2016'))


def write_all(out: Path, num_train: int, num_val: int, seed: int,
              datasets: Sequence[str]) -> None:
    writers = dict(imagenet=write_imagenet_image, cityscapes=write_cityscapes_scene,
                   ade=write_ade20k_scene)
    roots = dict(imagenet=out / 'imagenet', cityscapes=out / 'cityscapes',
                 ade=out / 'ade' / 'ADEChallengeData2016')
    for split, count in (('train', num_train), ('val', num_val)):
        for index in range(count):
            for name in datasets:
                if name in writers:  # each from its own random stream
                    rng = np.random.default_rng(
                        (seed, 0 if split == 'train' else 1, index, DATASET_DIRS.index(name)))
                    writers[name](roots[name], split, index, rng)
        if 'coco' in datasets:
            write_coco_split(out / 'coco', split, count, seed)


def scene(rng: np.random.Generator, index: int, size: Tuple[int, int]):
    """A scene of a few shapes whose largest is of class ``index`` mod 5."""
    return generate_scene(rng, index % len(CLASSES), NUM_SHAPES, size)


def label_map(shapes, size: Tuple[int, int], labels: Sequence[int],
              background: int) -> np.ndarray:
    """A uint8 (H, W) map: ``background``, each shape's pixels its class's label."""
    width, height = size
    labels_map = np.full((height, width), background, np.uint8)
    for shape in shapes:
        labels_map[shape.mask] = labels[shape.label]
    return labels_map


def write_imagenet_image(root: Path, split: str, index: int,
                         rng: np.random.Generator) -> None:
    width, height = IMAGENET_SIZES[index % len(IMAGENET_SIZES)]
    obj = generate_object_image(rng, index % len(CLASSES), min(width, height))
    image = np.full((height, width, 3), BACKGROUND_GREY, np.uint8)
    top, left = (height - obj.image.shape[0]) // 2, (width - obj.image.shape[1]) // 2
    image[top:top + obj.image.shape[0], left:left + obj.image.shape[1]] = obj.image
    label = IMAGENET_LABELS[obj.label]
    rel_path = f'n{label:08d}/{split}_{index:08d}.JPEG'
    write_bytes(root / split / rel_path, cv2.imencode('.jpg', image, JPEG_PARAMS)[1])
    with open(_mkdir(root / 'meta') / f'{split}.txt', 'a') as f:
        f.write(f'{rel_path} {label}\n')


def write_cityscapes_scene(root: Path, split: str, index: int,
                           rng: np.random.Generator) -> None:
    drawn = scene(rng, index, CITYSCAPES_SIZE)
    train_ids = label_map(drawn.shapes, CITYSCAPES_SIZE, CITYSCAPES_TRAIN_IDS,
                          CITYSCAPES_BACKGROUND)
    train_ids[:8] = 255  # an ignored strip, as the ego vehicle's is
    to_label_id = np.zeros(256, np.uint8)
    for train_id in range(19):
        to_label_id[train_id] = trainId2label[train_id].id
    label_ids = to_label_id[train_ids]
    city = f'{split}city'
    stem = f'{city}_{0:06d}_{index:06d}'
    write_png(root / 'leftImg8bit' / split / city / f'{stem}_leftImg8bit.png', drawn.image)
    gt_dir = root / 'gtFine' / split / city
    write_png(gt_dir / f'{stem}_gtFine_labelTrainIds.png', train_ids)
    write_png(gt_dir / f'{stem}_gtFine_labelIds.png', label_ids)
    write_png(gt_dir / f'{stem}_gtFine_instanceIds.png', label_ids.astype(np.uint16))


def write_ade20k_scene(root: Path, split: str, index: int,
                       rng: np.random.Generator) -> None:
    size = ADE20K_SIZES[index % len(ADE20K_SIZES)]
    drawn = scene(rng, index, size)
    labels = label_map(drawn.shapes, size, ADE20K_LABELS, ADE20K_BACKGROUND)
    labels[-4:] = 0  # "other" pixels, ignored
    folder, prefix = SPLITS[split][2:]
    stem = f'{prefix}_{index + 1:08d}'
    write_bytes(root / 'images' / folder / f'{stem}.jpg',
                cv2.imencode('.jpg', drawn.image, JPEG_PARAMS)[1])
    write_png(root / 'annotations' / folder / f'{stem}.png', labels)


def write_coco_split(root: Path, split: str, count: int, seed: int) -> None:
    """The split's images and its instances json: the shapes as polygons, the second
    as compressed RLE, and a crowd region (uncompressed RLE, ``iscrowd=1``)."""
    from mmdet.datasets import CocoDataset
    folder = SPLITS[split][1]
    images: List[dict] = []
    annotations: List[dict] = []
    for index in range(count):
        rng = np.random.default_rng((seed, 2 if split == 'train' else 3, index))
        width, height = COCO_SIZES[index % len(COCO_SIZES)]
        drawn = scene(rng, index, (width, height))
        file_name = f'{index + 1:012d}.jpg'
        write_bytes(root / folder / file_name,
                    cv2.imencode('.jpg', drawn.image, JPEG_PARAMS)[1])
        images.append(dict(id=index + 1, file_name=file_name, width=width, height=height))
        for number, shape in enumerate(drawn.shapes):
            segmentation = [shape.polygon]
            if number == 1:
                rle = mask_utils.encode(np.asfortranarray(shape.mask.astype(np.uint8)))
                segmentation = dict(size=rle['size'], counts=rle['counts'].decode())
            annotations.append(dict(
                id=len(annotations) + 1, image_id=index + 1, iscrowd=0,
                category_id=COCO_CATEGORY_IDS[COCO_CLASS_INDICES[shape.label]],
                bbox=shape.bbox, area=float(shape.area), segmentation=segmentation))
        crowd = np.zeros((height, width), np.uint8)
        crowd[height - 24:height - 4, 4:64] = 1  # free of shapes: they keep a margin
        crowd[np.any([s.mask for s in drawn.shapes], axis=0)] = 0
        annotations.append(dict(
            id=len(annotations) + 1, image_id=index + 1, iscrowd=1,
            category_id=COCO_CATEGORY_IDS[0], bbox=[4., height - 24., 60., 20.],
            area=float(crowd.sum()), segmentation=uncompressed_rle(crowd)))
    categories = [dict(id=cat_id, name=name, supercategory='object')
                  for cat_id, name in zip(COCO_CATEGORY_IDS, CocoDataset.METAINFO['classes'])]
    _mkdir(root / 'annotations')
    with open(root / 'annotations' / f'instances_{folder}.json', 'w') as f:
        json.dump(dict(info=dict(description='mst_mm synthetic full-size COCO'),
                       licenses=[], images=images, annotations=annotations,
                       categories=categories), f)


def uncompressed_rle(mask: np.ndarray) -> dict:
    """COCO's uncompressed RLE of a (H, W) mask (column-major run lengths, from 0s)."""
    flat = mask.flatten(order='F')
    changes = np.flatnonzero(np.diff(flat)) + 1
    bounds = np.concatenate([[0], changes, [flat.size]])
    counts = np.diff(bounds).tolist()
    if flat[0]:
        counts = [0] + counts
    return dict(size=[int(mask.shape[0]), int(mask.shape[1])], counts=counts)


def _mkdir(path: Path) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    return path
