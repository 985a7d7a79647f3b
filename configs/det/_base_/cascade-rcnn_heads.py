# The three-stage cascade of mmdet's Cascade Mask R-CNN (its RoI head, training and test
# settings) as variables, for a Mask R-CNN config to swap in (model.type 'CascadeRCNN').
_base_ = 'mmdet::_base_/models/cascade-mask-rcnn_r50_fpn.py'

cascade_roi_head = _base_.model.roi_head
cascade_train_cfg = _base_.model.train_cfg
cascade_test_cfg = _base_.model.test_cfg
del _base_.model  # only the variables above are inherited
