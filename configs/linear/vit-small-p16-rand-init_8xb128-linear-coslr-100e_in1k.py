# The floor of ImageNet linear evaluation: the same protocol on a frozen ViT-S/16 that
# loads no checkpoint (DINO's ViT initialisation, DINOVisionTransformer).
_base_ = './vit-small-p16-mst-300e_8xb128-linear-coslr-100e_in1k.py'

pretrained = None
model = dict(backbone=dict(init_cfg=None))
