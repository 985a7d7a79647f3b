# The floor: the same SETR-PUP from a randomly initialised ViT-S/16.
_base_ = './setr-pup_vit-small-p16-mst-100e_8xb1-80k_cityscapes-768x768.py'

pretrained = None
# No checkpoint: the backbone keeps DINO's initialisation of a ViT (DINOVisionTransformer).
model = dict(backbone=dict(init_cfg=None))
