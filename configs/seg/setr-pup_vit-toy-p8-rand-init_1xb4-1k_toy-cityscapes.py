# The floor of the miniature Cityscapes transfer: the toy SETR from a random toy ViT.
_base_ = './setr-pup_vit-toy-p8-mst-toy_1xb4-1k_toy-cityscapes.py'

pretrained = None
# No checkpoint: the backbone keeps DINO's initialisation of a ViT (DINOVisionTransformer).
model = dict(backbone=dict(init_cfg=None))
