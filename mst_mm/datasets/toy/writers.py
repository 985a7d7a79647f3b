"""Writes the toy scenes and ImageNet images in the real dataset layouts.

ImageNet folders with meta files (mmpretrain ``CustomDataset``), COCO 2017
instances (mmdet ``CocoDataset``), Cityscapes ``leftImg8bit`` / ``gtFine``
(mmseg ``CityscapesDataset``, cityscapesscripts evaluation) and ADE20K
``images`` / ``annotations`` with its reduced-label convention (mmseg
``ADE20KDataset``).
"""
import json
from pathlib import Path
from typing import Dict, List, Sequence

import cv2
import numpy as np
from cityscapesscripts.helpers.labels import trainId2label

from .painter import ObjectImage, Scene
from .shapes import CLASSES, Shape

#: Cities of the Cityscapes copy; scenes are spread over them round-robin.
CITIES = {'train': ('toyville', 'shapeburg'), 'val': ('gridham', )}

#: Split folders and file name parts of the ADE20K copy.
ADE20K_SPLITS = {'train': ('training', 'ADE_train'), 'val': ('validation', 'ADE_val')}

# No chroma subsampling: the JPEG copies stay close to the lossless PNGs.
JPEG_PARAMS = [
    cv2.IMWRITE_JPEG_QUALITY, 95, cv2.IMWRITE_JPEG_SAMPLING_FACTOR,
    cv2.IMWRITE_JPEG_SAMPLING_FACTOR_444
]
PNG_PARAMS = [cv2.IMWRITE_PNG_COMPRESSION, 3]


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
