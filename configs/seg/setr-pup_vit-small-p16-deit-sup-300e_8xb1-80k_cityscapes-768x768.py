# The supervised row: the same SETR-PUP from DeiT-S (ViT-S/16 trained with labels on
# ImageNet-1k, 300 epochs), converted from a timm state dict of deit_small_patch16_224 with
# extract_backbone.py --arch deit-small.
_base_ = './setr-pup_vit-small-p16-mst-100e_8xb1-80k_cityscapes-768x768.py'

pretrained = 'checkpoints/deit-small-p16_sup-300e_in1k_backbone.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
