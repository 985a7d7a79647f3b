# The supervised row: the same Cascade Mask R-CNN from DeiT-S (ViT-S/16 trained with labels
# on ImageNet-1k, 300 epochs); convert it as in
# mask-rcnn_vit-small-p16-deit-sup-300e_fpn_8xb2-1x_coco.py.
_base_ = './cascade-mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py'

pretrained = 'checkpoints/deit-small-p16_sup-300e_in1k_backbone.pth'
model = dict(backbone=dict(init_cfg=dict(checkpoint=pretrained)))
