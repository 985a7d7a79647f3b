# The supervised row: the same UperNet from a ViT-S/16 trained with labels on ImageNet-1k
# (DeiT-S, 300 epochs). Convert a timm state dict of deit_small_patch16_224 first:
#   python tools/model_converters/extract_backbone.py deit_small_patch16_224.pth \
#       $pretrained --arch deit-small
_base_ = './upernet_vit-small-p16-mst-100e_8xb2-160k_ade20k-512x512.py'

pretrained = 'checkpoints/deit-small-p16_sup-300e_in1k_backbone.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
