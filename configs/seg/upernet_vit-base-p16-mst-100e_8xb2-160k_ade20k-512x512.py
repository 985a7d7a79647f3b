# UperNet on ADE20K from the MST ViT-B/16 (768 wide, 12 blocks, 12 heads) pre-trained for
# 100 epochs: the ViT-S/16 config with the wider backbone and the widths that read it.
_base_ = './upernet_vit-small-p16-mst-100e_8xb2-160k_ade20k-512x512.py'

pretrained = 'checkpoints/mst_vit-base-p16_16xb64-coslr-100e_in1k_backbone.pth'
embed_dims = 768
model = dict(
    backbone=dict(arch='deit-base', init_cfg=dict(checkpoint=pretrained)),
    neck=dict(in_channels=embed_dims),
    decode_head=dict(in_channels=[embed_dims] * 4),
    auxiliary_head=dict(in_channels=embed_dims))
