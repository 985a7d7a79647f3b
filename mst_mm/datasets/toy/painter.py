"""Places and paints the shapes of the toy scenes and ImageNet images.

Scenes (the COCO, Cityscapes and ADE20K copies) are canvases with a few
non-overlapping shapes; ImageNet images are squares with one large shape near
the centre. Both are painted in the same two grey levels.
"""
from dataclasses import dataclass
from typing import List, Sequence, Tuple

import cv2
import numpy as np

from .shapes import CLASSES, UNIT_AREAS, Shape, posed_shape

# Shape sizes are circumradii relative to the short side of the canvas. The
# first shape of a scene (its label) is large; every other shape is at most
# MAX_AREA_RATIO times its area, so the label is unambiguous.
LABEL_RADIUS = (0.25, 0.42)
OTHER_RADIUS = (0.08, 0.28)
MAX_AREA_RATIO = 0.7
SHAPE_MARGIN = 2  # free pixels kept between two shapes
PLACEMENT_TRIES = 50

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
class Scene:
    """A generated scene: a BGR uint8 image and its shapes."""
    image: np.ndarray
    shapes: List[Shape]

    @property
    def label(self) -> int:
        """Class index of the largest shape, the image-level label."""
        return max(self.shapes, key=lambda shape: shape.area).label


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


def place_shape(rng: np.random.Generator, label: int, radius: float,
                height: int, width: int) -> Shape:
    """Draw a shape of class ``label`` at a random position and rotation.

    The shape lies inside the canvas, at least ``SHAPE_MARGIN`` pixels from
    its border.
    """
    angle = rng.uniform(0, 2 * np.pi)
    low = radius + SHAPE_MARGIN
    centre = rng.uniform((low, low), (width - low, height - low))
    return posed_shape(label, radius, angle, centre, height, width)


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
    room = max(side / 2 - radius - SHAPE_MARGIN, 0.)
    centre = side / 2 + OBJECT_JITTER * rng.uniform(-room, room, size=2)
    shape = posed_shape(label, radius, angle, centre, side, side)
    return ObjectImage(
        image=paint_grey(rng, side, side, [shape]), shape=shape,
        background=np.full(3, BACKGROUND_GREY, np.float32),
        colour=np.full(3, OBJECT_GREY, np.float32))
