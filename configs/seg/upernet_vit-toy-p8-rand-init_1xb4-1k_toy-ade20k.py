# The floor of the miniature ADE20K transfer: the toy UperNet from a random toy ViT.
_base_ = './upernet_vit-toy-p8-mst-toy_1xb4-1k_toy-ade20k.py'

pretrained = None
model = dict(backbone=dict(init_cfg=dict(
    _delete_=True, type='TruncNormal', layer='Linear', std=0.02, bias=0.)))
