# The supervised row on ViT-B/16: DeiT-B (ImageNet-1k labels, 300 epochs), converted from
# a timm state dict of deit_base_patch16_224 with extract_backbone.py --arch deit-base.
_base_ = './upernet_vit-base-p16-mst-100e_8xb2-160k_ade20k-512x512.py'

pretrained = 'checkpoints/deit-base-p16_sup-300e_in1k_backbone.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
