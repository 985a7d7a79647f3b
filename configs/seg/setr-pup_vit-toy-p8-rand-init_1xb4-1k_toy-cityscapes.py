# The floor of the miniature Cityscapes transfer: the toy SETR from a random toy ViT.
_base_ = './setr-pup_vit-toy-p8-mst-toy_1xb4-1k_toy-cityscapes.py'

pretrained = None
model = dict(backbone=dict(init_cfg=dict(
    _delete_=True, type='TruncNormal', layer='Linear', std=0.02, bias=0.)))
