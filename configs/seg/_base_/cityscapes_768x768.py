# Cityscapes under data/cityscapes/ (mmseg's layout), 768x768 crops; the full 1024x2048
# images for testing. The dataset checks that every image has its label file.
_base_ = 'mmseg::_base_/datasets/cityscapes_768x768.py'

crop_size = (768, 768)
train_dataloader = dict(dataset=dict(type='CheckedCityscapesDataset'))
val_dataloader = dict(dataset=dict(type='CheckedCityscapesDataset'))
test_dataloader = val_dataloader
