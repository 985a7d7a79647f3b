# SETR-PUP on Cityscapes from the MST ViT-B/16 pre-trained for 100 epochs: the ViT-S/16
# config with the wider backbone and the widths that read it.
_base_ = './setr-pup_vit-small-p16-mst-100e_8xb1-80k_cityscapes-768x768.py'

pretrained = 'checkpoints/mst_vit-base-p16_16xb64-coslr-100e_in1k_backbone.pth'
embed_dims = 768
model = dict(
    backbone=dict(arch='deit-base', init_cfg=dict(checkpoint=pretrained)),
    decode_head=dict(in_channels=embed_dims),
    auxiliary_head=[dict(head, in_channels=embed_dims)
                    for head in _base_.model.auxiliary_head])
