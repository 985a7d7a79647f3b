# Mask R-CNN 1x on COCO 2017 from the MST ViT-S/16 pre-trained for 100 epochs
# (the paper's 42.7 box AP). Extract the backbone first:
#   python tools/model_converters/extract_backbone.py \
#       work_dirs/mst_vit-small-p16_16xb64-coslr-100e_in1k/epoch_100.pth $pretrained
# Another pre-trained ViT needs only another checkpoint:
#   python tools/train.py THIS_CONFIG --cfg-options pretrained=OTHER.pth
pretrained = 'checkpoints/mst_vit-small-p16_16xb64-coslr-100e_in1k_backbone.pth'

_base_ = [
    './_base_/mask-rcnn_vit-small-p16_fpn.py',
    './_base_/coco_instance.py',
    './_base_/adamw_layer-decay_1x.py',
    'mmdet::_base_/default_runtime.py',
]

model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
