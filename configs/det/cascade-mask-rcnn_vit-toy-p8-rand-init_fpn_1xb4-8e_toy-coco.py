# The floor of the miniature Cascade Mask R-CNN: from a random toy ViT.
_base_ = './cascade-mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py'

pretrained = None
model = dict(backbone=dict(init_cfg=dict(
    _delete_=True, type='TruncNormal', layer='Linear', std=0.02, bias=0.)))
