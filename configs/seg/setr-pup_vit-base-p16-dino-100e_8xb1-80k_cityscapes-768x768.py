# The DINO baseline on ViT-B/16 under the same protocol: only the checkpoint differs.
_base_ = './setr-pup_vit-base-p16-mst-100e_8xb1-80k_cityscapes-768x768.py'

pretrained = 'checkpoints/dino_vit-base-p16_16xb64-coslr-100e_in1k_backbone.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
