"""The synthetic "toy shapes" data of the miniature benchmark.

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

Modules:

* :mod:`.shapes`: the shape classes, their outlines and the COCO
  rasterisation of a shape.
* :mod:`.painter`: places and paints the shapes of a scene or of an
  object-centric ImageNet image.
* :mod:`.writers`: writes them in the ImageNet, COCO, Cityscapes and ADE20K
  layouts.
* :mod:`.generate`: :func:`make_toy_data`, which writes the whole data set
  (or reuses an up-to-date copy).

``tools/dataset_converters/make_toy_data.py`` is its command line. Not imported
by ``mst_mm.datasets``: it needs pycocotools and cityscapesscripts, which
training does not.
"""
from .generate import (DATASET_DIRS, FORMAT_VERSION, META_FILE, check_params,
                       make_toy_data, prepare_out_dir)
from .painter import (BACKGROUND_GREY, OBJECT_GREY, ObjectImage, Scene,
                      generate_object_image, generate_scene, imagenet_rng)
from .shapes import CLASSES, Shape, make_shape, unit_polygon
from .writers import ADE20K_SPLITS, CITIES, ToyDataWriter

__all__ = [
    'ADE20K_SPLITS', 'BACKGROUND_GREY', 'CITIES', 'CLASSES', 'DATASET_DIRS',
    'FORMAT_VERSION', 'META_FILE', 'OBJECT_GREY', 'ObjectImage', 'Scene',
    'Shape', 'ToyDataWriter', 'check_params', 'generate_object_image',
    'generate_scene', 'imagenet_rng', 'make_shape', 'make_toy_data',
    'prepare_out_dir', 'unit_polygon'
]
