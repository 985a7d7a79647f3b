# The DINO baseline on ViT-B/16 under the same protocol: only the checkpoint differs.
_base_ = './upernet_vit-base-p16-mst-100e_8xb2-160k_ade20k-512x512.py'

pretrained = 'checkpoints/dino_vit-base-p16_16xb64-coslr-100e_in1k_backbone.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
