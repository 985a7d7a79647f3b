# The floor: the same UperNet from a randomly initialised ViT-B/16.
_base_ = './upernet_vit-base-p16-mst-100e_8xb2-160k_ade20k-512x512.py'

pretrained = None
# No checkpoint: the backbone keeps DINO's initialisation of a ViT (DINOVisionTransformer).
model = dict(backbone=dict(init_cfg=None))
