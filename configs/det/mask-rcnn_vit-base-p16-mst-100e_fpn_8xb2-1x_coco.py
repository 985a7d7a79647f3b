# Mask R-CNN 1x on COCO from the MST ViT-B/16 (768 wide, 12 blocks, 12 heads) pre-trained
# for 100 epochs: the ViT-S/16 config with the wider backbone and the neck widths.
_base_ = './mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py'

pretrained = 'checkpoints/mst_vit-base-p16_16xb64-coslr-100e_in1k_backbone.pth'
embed_dims = 768
model = dict(
    backbone=dict(arch='deit-base', init_cfg=dict(checkpoint=pretrained)),
    neck=[dict(_base_.model.neck[0], in_channels=embed_dims),  # ViTMultiScaleNeck
          dict(_base_.model.neck[1], in_channels=[embed_dims] * 4)])  # FPN
