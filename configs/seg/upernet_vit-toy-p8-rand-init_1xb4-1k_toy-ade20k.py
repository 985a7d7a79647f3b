# The floor of the miniature ADE20K transfer: the toy UperNet from a random toy ViT.
_base_ = './upernet_vit-toy-p8-mst-toy_1xb4-1k_toy-ade20k.py'

pretrained = None
# No checkpoint: the backbone keeps DINO's initialisation of a ViT (DINOVisionTransformer).
model = dict(backbone=dict(init_cfg=None))
