# The DINO baseline under the same linear protocol: only the checkpoint differs.
_base_ = './vit-small-p16-mst-300e_8xb128-linear-coslr-100e_in1k.py'

pretrained = 'checkpoints/dino_vit-small-p16_16xb64-coslr-300e_in1k_backbone.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
