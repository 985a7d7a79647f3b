# The floor: the same Cascade Mask R-CNN from a randomly initialised ViT-S/16.
_base_ = './cascade-mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py'

pretrained = None
# No checkpoint: the backbone keeps DINO's initialisation of a ViT (DINOVisionTransformer).
model = dict(backbone=dict(init_cfg=None))
