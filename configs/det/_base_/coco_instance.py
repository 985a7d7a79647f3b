# COCO 2017 instances under data/coco/ (mmdet's layout). The dataset names an annotation
# file or image it cannot use and warns about the annotations mmdet drops; the metric
# scores a model without a single detection as 0 AP (mmdet's reports nothing).
_base_ = 'mmdet::_base_/datasets/coco_instance.py'

train_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = val_dataloader
val_evaluator = dict(type='CheckedCocoMetric')
test_evaluator = val_evaluator
