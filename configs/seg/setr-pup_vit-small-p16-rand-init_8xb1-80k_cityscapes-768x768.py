# The floor: the same SETR-PUP from a randomly initialised ViT-S/16.
_base_ = './setr-pup_vit-small-p16-mst-100e_8xb1-80k_cityscapes-768x768.py'

pretrained = None
model = dict(backbone=dict(init_cfg=dict(
    _delete_=True, type='TruncNormal', layer='Linear', std=0.02, bias=0.)))
