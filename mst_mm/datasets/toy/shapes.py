"""The shape classes of the toy data, their outlines and their masks.

Instance masks are the pycocotools rasterisation of the stored COCO polygons
(the rasterisation mmdet and the COCO evaluation use), so the COCO polygons,
the painted pixels and the Cityscapes label maps agree exactly.
``cv2.fillPoly`` is not used for that because it also fills pixels whose
centres lie on the polygon outline, which COCO's rasterisation does not.
"""
from dataclasses import dataclass
from typing import List, Sequence, Union

import numpy as np
from pycocotools import mask as mask_utils

#: Shape classes; the ImageNet label, COCO category id - 1 and Cityscapes
#: train id - 1 of a shape are its index in this tuple. Sorted, because
#: mmpretrain's folder scan numbers the class folders in sorted order.
CLASSES = ('circle', 'cross', 'square', 'star', 'triangle')


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


def posed_shape(label: int, radius: float, angle: float,
                centre: Union[np.ndarray, Sequence[float]], height: int,
                width: int) -> Shape:
    """A shape of class ``label`` on a (H, W) canvas: circumradius ``radius``,
    rotated by ``angle`` around its ``centre`` (x, y); its polygon's
    coordinates are rounded to 2 decimals."""
    rotation = np.array([[np.cos(angle), -np.sin(angle)],
                         [np.sin(angle), np.cos(angle)]])
    vertices = unit_polygon(label) @ rotation.T * radius + centre
    polygon = [float(v) for v in np.round(vertices, 2).ravel()]
    return make_shape(label, polygon, height, width)
