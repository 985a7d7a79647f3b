# Cascade Mask R-CNN 1x on COCO 2017 from the MST ViT-S/16 pre-trained for 100 epochs: the
# Mask R-CNN config (ViT-S/16, multi-scale neck, FPN, layer-wise lr decay 0.75) with
# mmdet's three-stage cascade RoI head. Extract the backbone first
# (tools/model_converters/extract_backbone.py); another pre-trained ViT:
# --cfg-options pretrained=OTHER.pth
_base_ = [
    './mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py', './_base_/cascade-rcnn_heads.py'
]

model = dict(
    type='CascadeRCNN',
    roi_head=dict(_delete_=True, **_base_.cascade_roi_head),
    train_cfg=dict(_delete_=True, **_base_.cascade_train_cfg),
    test_cfg=dict(_delete_=True, **_base_.cascade_test_cfg))
