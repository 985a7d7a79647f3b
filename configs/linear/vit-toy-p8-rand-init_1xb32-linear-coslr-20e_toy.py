# The floor of the miniature linear evaluation: a frozen random toy ViT.
_base_ = './vit-toy-p8-mst-toy_1xb32-linear-coslr-20e_toy.py'

pretrained = None
model = dict(backbone=dict(init_cfg=dict(
    _delete_=True, type='TruncNormal', layer='Linear', std=0.02, bias=0.)))
