# The miniature COCO Cascade Mask R-CNN: the toy Mask R-CNN (toy MST ViT, toy COCO scenes,
# CPU in minutes) with mmdet's three-stage cascade RoI head at the toy widths.
_base_ = [
    './mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py', './_base_/cascade-rcnn_heads.py'
]

cascade, channels = _base_.cascade_roi_head, _base_.channels
model = dict(
    type='CascadeRCNN',
    roi_head=dict(
        cascade,
        _delete_=True,
        bbox_roi_extractor=dict(cascade.bbox_roi_extractor, out_channels=channels),
        bbox_head=[dict(head, in_channels=channels, fc_out_channels=256,
                        num_classes=len(_base_.classes)) for head in cascade.bbox_head],
        mask_roi_extractor=dict(cascade.mask_roi_extractor, out_channels=channels),
        mask_head=_base_.model.roi_head.mask_head),  # the toy Mask R-CNN's
    train_cfg=dict(
        _base_.cascade_train_cfg,
        _delete_=True,
        rcnn=[dict(stage, sampler=dict(stage.sampler, num=128))
              for stage in _base_.cascade_train_cfg.rcnn]),
    test_cfg=dict(_base_.cascade_test_cfg, _delete_=True, rpn=_base_.model.test_cfg.rpn))
