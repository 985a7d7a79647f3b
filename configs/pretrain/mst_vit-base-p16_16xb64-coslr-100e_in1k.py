# MST on ViT-B/16 (768 wide, 12 blocks, 12 heads; mmpretrain's 'deit-base'): the ViT-S/16
# run with the wider backbone and the widths that follow from it (the DINO head's and the
# decoder's input); the recipe is unchanged.
_base_ = './mst_vit-small-p16_16xb64-coslr-100e_in1k.py'

embed_dims = 768
model = dict(
    backbone=dict(arch='deit-base'),
    head=dict(in_channels=embed_dims),
    decoder=dict(in_channels=embed_dims))
