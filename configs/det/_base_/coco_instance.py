# COCO 2017 instances under data/coco/ (mmdet's layout). The dataset names an annotation
# file or image it cannot use and warns about the annotations mmdet drops.
_base_ = 'mmdet::_base_/datasets/coco_instance.py'

train_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCocoDataset'))
test_dataloader = val_dataloader
