"""Generate the synthetic "toy shapes" data of the miniature benchmark.

Four datasets in real dataset formats, so that a model pre-trained on the
ImageNet-style one can be transferred to the detection and segmentation ones:

* ``OUT_DIR/imagenet``: ImageNet folder layout (mmpretrain ``CustomDataset``).
  Object-centric like ImageNet: every image is a square with ONE large shape
  (about 50-90 % of the side, near the centre, random rotation), light grey
  on a plain dark grey background; the label is the class of that shape.
  ``imagenet/annotations/instances_{train,val}.json`` hold each image's shape
  as a COCO instance (for measuring attention on the pre-training images).
* ``OUT_DIR/coco``: COCO 2017 instance annotations (mmdet ``CocoDataset``).
* ``OUT_DIR/cityscapes``: Cityscapes ``leftImg8bit`` / ``gtFine`` layout
  (mmseg ``CityscapesDataset``, cityscapesscripts evaluation).
* ``OUT_DIR/ade20k``: ADE20K ``images`` / ``annotations`` layout with its
  reduced-label convention (mmseg ``ADE20KDataset``, ``reduce_zero_label``):
  0 is the background ("other", ignored), k + 1 is shape class k.

The COCO, Cityscapes and ADE20K copies hold the same scenes: canvases with a few
non-overlapping shapes, painted in the grey levels of the ImageNet images
(the pre-training domain), so that the transfer measures what pre-training
learnt about shapes and not a change of domain. Image ``i`` of the ImageNet
copy shows the class of the largest shape of scene ``i``, but is drawn
separately (and from a random stream of its own), because multi-shape scenes
squashed to the classifier's square input are not learnable by the tiny toy
models.

Output is deterministic: the same parameters give byte-identical files.

Instance masks are the pycocotools rasterisation of the stored COCO polygons
(the rasterisation mmdet and the COCO evaluation use), so the COCO polygons,
the painted pixels and the Cityscapes label maps agree exactly.
``cv2.fillPoly`` is not used for that because it also fills pixels whose
centres lie on the polygon outline, which COCO's rasterisation does not.
"""
import argparse
import json
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List, Optional, Sequence, Tuple, Union

import cv2
import numpy as np
from cityscapesscripts.helpers.labels import trainId2label
from pycocotools import mask as mask_utils

#: Shape classes; the ImageNet label, COCO category id - 1 and Cityscapes
#: train id - 1 of a shape are its index in this tuple. Sorted, because
#: mmpretrain's folder scan numbers the class folders in sorted order.
CLASSES = ('circle', 'cross', 'square', 'star', 'triangle')

#: Cities of the Cityscapes copy; scenes are spread over them round-robin.
CITIES = {'train': ('toyville', 'shapeburg'), 'val': ('gridham', )}

META_FILE = 'toy_data.json'
DATASET_DIRS = ('imagenet', 'coco', 'cityscapes', 'ade20k')
#: Split folders and file name parts of the ADE20K copy.
ADE20K_SPLITS = {'train': ('training', 'ADE_train'), 'val': ('validation', 'ADE_val')}
#: Bump when the generator changes its output, so old copies are regenerated.
FORMAT_VERSION = 5

# No chroma subsampling: the JPEG copies stay close to the lossless PNGs.
JPEG_PARAMS = [
    cv2.IMWRITE_JPEG_QUALITY, 95, cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
    cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444
]
PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 3]

# Shape sizes are circumradii relative to the short side of the canvas. The
# first shape of a scene (its label) is large; every other shape is at most
# MAX_AREA_RATIO times its area, so the label is unambiguous.
LABEL_RADIUS = (0.25, 0.42)
OTHER_RADIUS = (0.08, 0.28)
MAX_AREA_RATIO = 0.7
SHAPE_MARGIN = 2  # free pixels kept between two shapes
PLACEMENT_TRIES = 50
PROGRESS_EVERY = 64

# The object-centric ImageNet images: squares of side min(size) with one
# shape whose circumdiameter is OBJECT_DIAMETER times the side (so its
# extent is about 50-90 % of the side), near the centre: its centre is
# shifted by at most OBJECT_JITTER times the room left to the border.
# Every image has the same two grey levels, shape OBJECT_GREY on a plain
# BACKGROUND_GREY: only the shape's class, size, position and rotation
# (and the pixel noise) tell one image from another. Self-supervised
# pre-training learns whatever identifies an image across two augmented
# crops most easily; measured with the toy DINO on 1024 images (k-NN top-1
# of the teacher against a random-init ViT), per-image tints make it learn
# the colour (33 % against 49 %), per-image grey levels the brightness
# (71 % against 64 %), one grey level each the shapes (82 % against 63 %).
# Tried on 256 / 500 images: smaller shapes or free placement leave the
# k-NN accuracy of the toy ViT (random init or pre-trained) at chance.
OBJECT_DIAMETER = (0.7, 0.9)
OBJECT_JITTER = 0.3
OBJECT_GREY = 230.
BACKGROUND_GREY = 30.
OBJECT_NOISE = 6.  # max standard deviation of the pixel noise
#: Spawn key of the random stream of the ImageNet images, which keeps the
#: streams of the COCO / Cityscapes scenes as they were.
IMAGENET_STREAM = 1


@dataclass
class Shape:
    """A shape of a scene.

    Attributes:
        label (int): Index of the shape class in :data:`CLASSES`.
        polygon (list[float]): Outline as COCO ``[x1, y1, x2, y2, ...]``.
        mask (np.ndarray): Boolean (H, W) mask, the COCO rasterisation of
            ``polygon``.
        area (int): Number of pixels of ``mask``.
        bbox (list[float]): COCO ``[x, y, w, h]`` box of ``mask``.
    """
    label: int
    polygon: List[float]
    mask: np.ndarray
    area: int
    bbox: List[float]


@dataclass
class Scene:
    """A generated scene: a BGR uint8 image and its shapes."""
    image: np.ndarray
    shapes: List[Shape]

    @property
    def label(self) -> int:
        """Class index of the largest shape, the image-level label."""
        return max(self.shapes, key=lambda shape: shape.area).label


def unit_polygon(label: int) -> np.ndarray:
    """Vertices (N, 2) of a shape class with circumradius 1 around (0, 0)."""
    name = CLASSES[label]
    regular_vertices = dict(circle=48, square=4, triangle=3)
    if name in regular_vertices:
        angles = np.linspace(
            0, 2 * np.pi, regular_vertices[name], endpoint=False)
        return np.stack([np.cos(angles), np.sin(angles)], axis=1)
    if name == 'star':
        angles = np.linspace(0, 2 * np.pi, 10, endpoint=False)
        radii = np.tile([1.0, 0.45], 5)
        return np.stack([radii * np.cos(angles), radii * np.sin(angles)], 1)
    if name == 'cross':
        # A plus sign whose 8 outer corners lie on the unit circle.
        arm = 0.3
        tip = np.sqrt(1 - arm**2)
        quarter = np.array([[tip, -arm], [tip, arm], [arm, arm]])
        rot90 = np.array([[0, -1], [1, 0]])
        return np.concatenate(
            [quarter @ np.linalg.matrix_power(rot90, k).T for k in range(4)])
    raise ValueError(f'No outline defined for shape class {name!r}')


def polygon_area(vertices: np.ndarray) -> float:
    """Area of a simple polygon (shoelace formula)."""
    x, y = vertices[:, 0], vertices[:, 1]
    return 0.5 * abs(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))


#: Area of every shape class at circumradius 1.
UNIT_AREAS = tuple(
    polygon_area(unit_polygon(label)) for label in range(len(CLASSES)))


def make_shape(label: int, polygon: List[float], height: int,
               width: int) -> Shape:
    """Rasterise a COCO polygon the way pycocotools and mmdet do."""
    rle = mask_utils.frPyObjects([polygon], height, width)[0]
    return Shape(
        label=label,
        polygon=polygon,
        mask=mask_utils.decode(rle).astype(bool),
        area=int(mask_utils.area(rle)),
        bbox=[float(v) for v in mask_utils.toBbox(rle)])


def place_shape(rng: np.random.Generator, label: int, radius: float,
                height: int, width: int) -> Shape:
    """Draw a shape of class ``label`` at a random position and rotation.

    The shape lies inside the canvas, at least ``SHAPE_MARGIN`` pixels from
    its border.
    """
    angle = rng.uniform(0, 2 * np.pi)
    rotation = np.array([[np.cos(angle), -np.sin(angle)],
                         [np.sin(angle), np.cos(angle)]])
    low = radius + SHAPE_MARGIN
    centre = rng.uniform((low, low), (width - low, height - low))
    vertices = unit_polygon(label) @ rotation.T * radius + centre
    polygon = [float(v) for v in np.round(vertices, 2).ravel()]
    return make_shape(label, polygon, height, width)


def place_shapes(rng: np.random.Generator, label: int, num_shapes: int,
                 height: int, width: int) -> List[Shape]:
    """Non-overlapping shapes; the first, of class ``label``, is the largest.

    Shapes are placed by rejection sampling; a shape that finds no free
    place in ``PLACEMENT_TRIES`` tries is left out.
    """
    short_side = min(height, width)
    radius = rng.uniform(*LABEL_RADIUS) * short_side
    first = place_shape(rng, label, radius, height, width)
    kernel = np.ones((2 * SHAPE_MARGIN + 1, ) * 2, np.uint8)
    occupied = cv2.dilate(first.mask.astype(np.uint8), kernel)
    shapes = [first]
    for _ in range(num_shapes - 1):
        other = int(rng.integers(len(CLASSES)))
        max_area = MAX_AREA_RATIO * first.area
        max_radius = min(OTHER_RADIUS[1] * short_side,
                         np.sqrt(max_area / UNIT_AREAS[other]))
        min_radius = min(OTHER_RADIUS[0] * short_side, max_radius)
        for _ in range(PLACEMENT_TRIES):
            radius = rng.uniform(min_radius, max_radius)
            shape = place_shape(rng, other, radius, height, width)
            if shape.area <= max_area and not occupied[shape.mask].any():
                occupied |= cv2.dilate(shape.mask.astype(np.uint8), kernel)
                shapes.append(shape)
                break
    return shapes


def paint_grey(rng: np.random.Generator, height: int, width: int,
               shapes: Sequence[Shape]) -> np.ndarray:
    """The shapes in ``OBJECT_GREY`` on a plain ``BACKGROUND_GREY`` canvas, with
    pixel noise of a random standard deviation up to ``OBJECT_NOISE``; BGR uint8."""
    image = np.full((height, width, 3), BACKGROUND_GREY, np.float32)
    for shape in shapes:
        image[shape.mask] = OBJECT_GREY
    image += rng.normal(0, rng.uniform(0, OBJECT_NOISE), size=image.shape)
    return np.round(np.clip(image, 0, 255)).astype(np.uint8)


def generate_scene(rng: np.random.Generator,
                   label: int,
                   num_shapes: Tuple[int, int],
                   size: Tuple[int, int]) -> Scene:
    """Generate one scene whose largest shape is of class ``label``.

    Args:
        rng: Random generator of this scene.
        label: Class index of the largest shape.
        num_shapes: Inclusive range of the number of shapes.
        size: Canvas (width, height).
    """
    width, height = size
    count = int(rng.integers(num_shapes[0], num_shapes[1] + 1))
    shapes = place_shapes(rng, label, count, height, width)
    return Scene(image=paint_grey(rng, height, width, shapes), shapes=shapes)


@dataclass
class ObjectImage:
    """An object-centric ImageNet-style image: BGR uint8, one shape."""
    image: np.ndarray
    shape: Shape
    background: np.ndarray  # BGR colour of the background, float
    colour: np.ndarray  # BGR colour of the shape, float

    @property
    def label(self) -> int:
        """Class index of the shape, the image label."""
        return self.shape.label


def imagenet_rng(seed: int, split_index: int,
                 index: int) -> np.random.Generator:
    """Random generator of ImageNet image ``index`` of a split.

    A stream of its own: not that of scene ``index`` of the COCO and
    Cityscapes copies, ``np.random.default_rng((seed, split_index, index))``.
    """
    return np.random.default_rng(
        np.random.SeedSequence((seed, split_index, index),
                               spawn_key=(IMAGENET_STREAM, )))


def generate_object_image(rng: np.random.Generator, label: int,
                          side: int) -> ObjectImage:
    """One large shape of class ``label`` on a square background.

    The shape is ``OBJECT_GREY`` on a plain ``BACKGROUND_GREY`` background.
    Its circumdiameter is a random fraction (``OBJECT_DIAMETER``) of
    ``side``, its rotation is random and it lies entirely inside the image,
    near the centre. The image gets mild pixel noise.
    """
    radius = rng.uniform(*OBJECT_DIAMETER) * side / 2
    angle = rng.uniform(0, 2 * np.pi)
    rotation = np.array([[np.cos(angle), -np.sin(angle)],
                         [np.sin(angle), np.cos(angle)]])
    room = max(side / 2 - radius - SHAPE_MARGIN, 0.)
    centre = side / 2 + OBJECT_JITTER * rng.uniform(-room, room, size=2)
    vertices = unit_polygon(label) @ rotation.T * radius + centre
    polygon = [float(v) for v in np.round(vertices, 2).ravel()]
    shape = make_shape(label, polygon, side, side)
    return ObjectImage(
        image=paint_grey(rng, side, side, [shape]), shape=shape,
        background=np.full(3, BACKGROUND_GREY, np.float32),
        colour=np.full(3, OBJECT_GREY, np.float32))


class ToyDataWriter:
    """Writes ImageNet-style images and COCO / Cityscapes / ADE20K scenes.

    Args:
        out_dir: Folder that receives ``imagenet``, ``coco``, ``cityscapes``
            and ``ade20k``.
    """

    def __init__(self, out_dir: Path) -> None:
        self.imagenet = out_dir / 'imagenet'
        self.coco = out_dir / 'coco'
        self.cityscapes = out_dir / 'cityscapes'
        self.ade20k = out_dir / 'ade20k'
        self.meta_lines: Dict[str, List[str]] = {}
        self.coco_json: Dict[str, dict] = {}
        self.imagenet_coco: Dict[str, dict] = {}
        self.train_id_to_label_id = np.array(
            [trainId2label[t].id for t in range(len(CLASSES) + 1)], np.uint8)

    def add(self, split: str, index: int, scene: Scene,
            obj: ObjectImage) -> None:
        """Write scene ``index`` of ``split`` and its ImageNet image."""
        name = f'{split}_{index:06d}'
        jpeg = cv2.imencode('.jpg', obj.image, JPEG_PARAMS)[1].tobytes()
        self._add_imagenet(split, name, jpeg, obj)
        jpeg = cv2.imencode('.jpg', scene.image, JPEG_PARAMS)[1].tobytes()
        self._add_coco(split, index, name, jpeg, scene)
        self._add_cityscapes(split, index, scene)
        self._add_ade20k(split, index, jpeg, scene)

    def _add_imagenet(self, split: str, name: str, jpeg: bytes,
                      obj: ObjectImage) -> None:
        rel_path = f'{CLASSES[obj.label]}/{name}.JPEG'
        write_bytes(self.imagenet / split / rel_path, jpeg)
        self.meta_lines.setdefault(split, []).append(f'{rel_path} {obj.label}')
        # The shape's instance in COCO format (file_name relative to the split's
        # folder), for measuring attention on the pre-training images.
        coco = self.imagenet_coco.setdefault(split, new_coco_dict())
        side = obj.image.shape[0]
        image_id = len(coco['images']) + 1
        coco['images'].append(
            dict(id=image_id, file_name=rel_path, width=side, height=side))
        add_instances(coco, image_id, [obj.shape])

    def _add_coco(self, split: str, index: int, name: str, jpeg: bytes,
                  scene: Scene) -> None:
        file_name = f'{name}.jpg'
        write_bytes(self.coco / f'{split}2017' / file_name, jpeg)
        height, width = scene.image.shape[:2]
        coco = self.coco_json.setdefault(split, new_coco_dict())
        image_id = index + 1
        coco['images'].append(
            dict(id=image_id, file_name=file_name, width=width, height=height))
        add_instances(coco, image_id, scene.shapes)

    def _add_cityscapes(self, split: str, index: int, scene: Scene) -> None:
        city = CITIES[split][index % len(CITIES[split])]
        stem = f'{city}_{0:06d}_{index:06d}'
        train_ids = np.zeros(scene.image.shape[:2], np.uint8)
        for shape in scene.shapes:
            train_ids[shape.mask] = shape.label + 1
        label_ids = self.train_id_to_label_id[train_ids]
        # Cityscapes gives pixels of classes without instances (all those
        # of our train ids) their label id as instance id. Per-shape ids
        # (label id * 1000 + index) would break cityscapesscripts'
        # evaluation, which weighs them by the average size of that class
        # in Cityscapes, known only for classes with instances.
        instance_ids = label_ids.astype(np.uint16)
        write_png(
            self.cityscapes / 'leftImg8bit' / split / city /
            f'{stem}_leftImg8bit.png', scene.image)
        gt_dir = self.cityscapes / 'gtFine' / split / city
        write_png(gt_dir / f'{stem}_gtFine_labelTrainIds.png', train_ids)
        write_png(gt_dir / f'{stem}_gtFine_labelIds.png', label_ids)
        write_png(gt_dir / f'{stem}_gtFine_instanceIds.png', instance_ids)

    def _add_ade20k(self, split: str, index: int, jpeg: bytes,
                    scene: Scene) -> None:
        folder, prefix = ADE20K_SPLITS[split]
        stem = f'{prefix}_{index + 1:08d}'
        labels = np.zeros(scene.image.shape[:2], np.uint8)  # 0: "other"
        for shape in scene.shapes:
            labels[shape.mask] = shape.label + 1
        write_bytes(self.ade20k / 'images' / folder / f'{stem}.jpg', jpeg)
        write_png(self.ade20k / 'annotations' / folder / f'{stem}.png', labels)

    def finish(self) -> None:
        """Write the ImageNet meta files and the COCO annotation files."""
        meta_dir = self.imagenet / 'meta'
        meta_dir.mkdir(parents=True, exist_ok=True)
        (meta_dir / 'classes.txt').write_text('\n'.join(CLASSES) + '\n')
        for split, lines in self.meta_lines.items():
            (meta_dir / f'{split}.txt').write_text('\n'.join(lines) + '\n')
            # A folder scan finds every class, even one without images.
            for name in CLASSES:
                (self.imagenet / split / name).mkdir(exist_ok=True)
        ann_dir = self.coco / 'annotations'
        ann_dir.mkdir(parents=True, exist_ok=True)
        for split, coco in self.coco_json.items():
            with open(ann_dir / f'instances_{split}2017.json', 'w') as f:
                json.dump(coco, f)
        for split, coco in self.imagenet_coco.items():
            (self.imagenet / 'annotations').mkdir(exist_ok=True)
            with open(self.imagenet / 'annotations' / f'instances_{split}.json',
                      'w') as f:
                json.dump(coco, f)


def add_instances(coco: dict, image_id: int, shapes: Sequence[Shape]) -> None:
    """Append the shapes of image ``image_id`` as COCO instance annotations."""
    for shape in shapes:
        coco['annotations'].append(
            dict(
                id=len(coco['annotations']) + 1,
                image_id=image_id,
                category_id=shape.label + 1,
                bbox=shape.bbox,
                area=float(shape.area),
                iscrowd=0,
                segmentation=[shape.polygon]))


def new_coco_dict() -> dict:
    """An empty COCO instance annotation dict with the shape categories."""
    return dict(
        info=dict(description='mst_mm synthetic toy shapes'),
        licenses=[],
        images=[],
        annotations=[],
        categories=[
            dict(id=label + 1, name=name, supercategory='shape')
            for label, name in enumerate(CLASSES)
        ])


def write_bytes(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path``, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)


def write_png(path: Path, array: np.ndarray) -> None:
    """Write an image array as PNG, creating its folder."""
    path.parent.mkdir(parents=True, exist_ok=True)
    if not cv2.imwrite(str(path), array, PNG_PARAMS):
        raise OSError(f'Could not write {path}')


def check_params(num_train: int, num_val: int, size: Sequence[int],
                 num_shapes: Sequence[int]) -> None:
    """Raise ``ValueError`` on parameters the generator cannot honour."""
    if num_train < 1 or num_val < 1:
        raise ValueError('num_train and num_val must be at least 1, got '
                         f'{num_train} and {num_val}')
    if len(size) != 2 or min(size) < 32:
        raise ValueError(f'size must be (width, height), each at least 32 '
                         f'pixels, got {tuple(size)}')
    if len(num_shapes) != 2 or not 1 <= num_shapes[0] <= num_shapes[1]:
        raise ValueError('num_shapes must be (min, max) with '
                         f'1 <= min <= max, got {tuple(num_shapes)}')


def prepare_out_dir(out_dir: Path, meta: dict, force: bool) -> bool:
    """Check ``out_dir`` and clear stale toy data from it.

    Returns:
        bool: True if ``out_dir`` already holds the toy data of ``meta``.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(
            f'Output folder {out_dir} exists and is not a folder')
    meta_path = out_dir / META_FILE
    present = [out_dir / d for d in DATASET_DIRS if (out_dir / d).exists()]
    if not meta_path.is_file():
        if present:
            raise FileExistsError(
                f'{present[0]} exists but {meta_path} does not, so it is not '
                'toy data written by this tool; refusing to overwrite it. '
                'Remove it or choose another output folder.')
        return False
    try:
        up_to_date = json.loads(meta_path.read_text()) == meta
    except json.JSONDecodeError:
        up_to_date = False
    if up_to_date and not force and len(present) == len(DATASET_DIRS):
        return True
    meta_path.unlink()
    for path in present:
        shutil.rmtree(path)
    return False


def make_toy_data(out_dir: Union[str, Path],
                  seed: int = 0,
                  num_train: int = 256,
                  num_val: int = 64,
                  size: Tuple[int, int] = (256, 128),
                  num_shapes: Tuple[int, int] = (2, 5),
                  force: bool = False) -> Dict[str, object]:
    """Write the toy data set to ``out_dir`` (or reuse an up-to-date copy).

    The output is reused when ``out_dir/toy_data.json`` records the same
    parameters. Toy data written with other parameters is replaced.

    Args:
        out_dir: Output folder.
        seed: Random seed; the same seed gives byte-identical files.
        num_train: Number of training scenes.
        num_val: Number of validation scenes.
        size: Canvas (width, height) of the COCO and Cityscapes scenes; the
            ImageNet images are squares of side ``min(size)``.
        num_shapes: Inclusive (min, max) number of shapes per COCO /
            Cityscapes / ADE20K scene (an ImageNet image has one).
        force: Regenerate even if an up-to-date copy exists.

    Returns:
        dict: ``imagenet``, ``coco``, ``cityscapes`` and ``ade20k``: the
        dataset roots (str); ``classes``: the shape classes.
    """
    check_params(num_train, num_val, size, num_shapes)
    out_dir = Path(out_dir)
    meta = dict(
        version=FORMAT_VERSION,
        seed=seed,
        num_train=num_train,
        num_val=num_val,
        size=list(size),
        num_shapes=list(num_shapes),
        classes=list(CLASSES))
    result = {name: str(out_dir / name) for name in DATASET_DIRS}
    result['classes'] = CLASSES
    if prepare_out_dir(out_dir, meta, force):
        print(f'Reusing up-to-date toy data in {out_dir}')
        return result

    start = time.perf_counter()
    writer = ToyDataWriter(out_dir)
    splits = (('train', num_train), ('val', num_val))
    for split_index, (split, num) in enumerate(splits):
        for index in range(num):
            # One generator per scene: a scene does not depend on the
            # number of scenes, and labels cycle so every class has images.
            label = index % len(CLASSES)
            rng = np.random.default_rng((seed, split_index, index))
            scene = generate_scene(rng, label, num_shapes, size)
            obj = generate_object_image(
                imagenet_rng(seed, split_index, index), label, min(size))
            writer.add(split, index, scene, obj)
            if (index + 1) % PROGRESS_EVERY == 0 or index + 1 == num:
                print(f'[{split}] {index + 1}/{num} scenes')
    writer.finish()
    meta_text = json.dumps(meta, indent=2, sort_keys=True)
    (out_dir / META_FILE).write_text(meta_text + '\n')

    print(f'Toy data written to {out_dir} in '
          f'{time.perf_counter() - start:.1f} s '
          f'({num_train} train / {num_val} val scenes, {size[0]}x{size[1]})')
    for name in DATASET_DIRS:
        print(f'  {name + ":":12s}{result[name]}')
    print(f'  {"classes:":12s}{", ".join(CLASSES)}')
    return result


def parse_args(argv: Optional[Sequence[str]] = None) -> argparse.Namespace:
    """Parse the command line."""
    parser = argparse.ArgumentParser(
        description=f"""\
Write the deterministic synthetic "toy shapes" data of the miniature
benchmark: object-centric square images of one large grey shape for
classification (ImageNet layout), and scenes of several non-overlapping
shapes in the same two grey levels for detection and segmentation (COCO,
Cityscapes and ADE20K layouts). The same parameters give byte-identical
files.
shape classes: {", ".join(CLASSES)}""",
        formatter_class=argparse.RawDescriptionHelpFormatter,
        epilog="""written files:
  OUT_DIR/imagenet/{train,val}/<class>/<split>_<index>.JPEG
  OUT_DIR/imagenet/meta/{train,val}.txt   lines "<class>/<file> <label>"
  OUT_DIR/imagenet/meta/classes.txt       one class name per line
      squares of side min(W, H), one large shape each, labelled with its
      class (mmpretrain CustomDataset)
  OUT_DIR/coco/{train2017,val2017}/<split>_<index>.jpg
  OUT_DIR/coco/annotations/instances_{train2017,val2017}.json
      COCO instances, polygon masks, category ids from 1 (mmdet CocoDataset)
  OUT_DIR/cityscapes/leftImg8bit/{train,val}/<city>/*_leftImg8bit.png
  OUT_DIR/cityscapes/gtFine/{train,val}/<city>/*_gtFine_labelTrainIds.png
      train ids: 0 background, k + 1 shape class k (mmseg CityscapesDataset)
  OUT_DIR/cityscapes/gtFine/{train,val}/<city>/*_gtFine_labelIds.png
  OUT_DIR/cityscapes/gtFine/{train,val}/<city>/*_gtFine_instanceIds.png
      the Cityscapes label ids of those train ids (cityscapesscripts
      evaluation); as none of them is a Cityscapes class with instances,
      the instance ids are the label ids too (16-bit PNG)
  OUT_DIR/ade20k/images/{training,validation}/ADE_{train,val}_<n>.jpg
  OUT_DIR/ade20k/annotations/{training,validation}/ADE_{train,val}_<n>.png
      the same scenes in the ADE20K layout: 0 background ("other", ignored
      with reduce_zero_label), k + 1 shape class k (mmseg ADE20KDataset)
  OUT_DIR/toy_data.json
      the parameters; a rerun with the same ones reuses the data""")
    parser.add_argument('out_dir', help='output folder')
    parser.add_argument(
        '--seed', type=int, default=0, help='random seed (default: 0)')
    parser.add_argument(
        '--num-train',
        type=int,
        default=256,
        help='number of training scenes (default: 256)')
    parser.add_argument(
        '--num-val',
        type=int,
        default=64,
        help='number of validation scenes (default: 64)')
    parser.add_argument(
        '--size',
        type=int,
        nargs=2,
        default=(256, 128),
        metavar=('W', 'H'),
        help='scene width and height; ImageNet images are squares of '
        'side min(W, H) (default: 256 128)')
    parser.add_argument(
        '--num-shapes',
        type=int,
        nargs=2,
        default=(2, 5),
        metavar=('MIN', 'MAX'),
        help='inclusive range of shapes per COCO / Cityscapes scene '
        '(default: 2 5)')
    parser.add_argument(
        '--force',
        action='store_true',
        help='regenerate even if OUT_DIR holds up-to-date toy data')
    return parser.parse_args(argv)


def main(argv: Optional[Sequence[str]] = None) -> None:
    """Command-line entry point."""
    args = parse_args(argv)
    try:
        make_toy_data(
            args.out_dir,
            seed=args.seed,
            num_train=args.num_train,
            num_val=args.num_val,
            size=tuple(args.size),
            num_shapes=tuple(args.num_shapes),
            force=args.force)
    except (ValueError, FileExistsError, NotADirectoryError) as err:
        raise SystemExit(f'error: {err}')


if __name__ == '__main__':
    main()
