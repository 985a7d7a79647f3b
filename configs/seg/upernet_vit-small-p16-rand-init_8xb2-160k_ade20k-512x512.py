# The floor: the same UperNet from a randomly initialised ViT-S/16.
_base_ = './upernet_vit-small-p16-mst-100e_8xb2-160k_ade20k-512x512.py'

pretrained = None
model = dict(backbone=dict(init_cfg=dict(
    _delete_=True, type='TruncNormal', layer='Linear', std=0.02, bias=0.)))
