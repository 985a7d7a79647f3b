# The floor: the same Cascade Mask R-CNN from a randomly initialised ViT-S/16.
_base_ = './cascade-mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py'

pretrained = None
model = dict(backbone=dict(init_cfg=dict(
    _delete_=True, type='TruncNormal', layer='Linear', std=0.02, bias=0.)))
