# The floor of the miniature linear evaluation: a frozen random toy ViT.
_base_ = './vit-toy-p8-mst-toy_1xb32-linear-coslr-20e_toy.py'

pretrained = None
# No checkpoint: the backbone keeps DINO's initialisation of a ViT (DINOVisionTransformer).
model = dict(backbone=dict(init_cfg=None))
