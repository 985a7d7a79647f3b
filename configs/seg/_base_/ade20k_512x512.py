# ADE20K (SceneParsing, 150 classes) under data/ade/ADEChallengeData2016/ (mmseg's layout
# and pipelines): 512x512 crops of images resized to 2048x512 (x0.5-2.0), tested at
# 2048x512; the multi-scale + flip test pipeline is tta_pipeline. Labels are stored
# reduced: 0 is "other" (ignored), 1-150 the classes. The dataset names an image without
# annotation and a label outside 1-150.
_base_ = 'mmseg::_base_/datasets/ade20k.py'

train_dataloader = dict(dataset=dict(type='CheckedADE20KDataset'))
val_dataloader = dict(dataset=dict(type='CheckedADE20KDataset'))
test_dataloader = val_dataloader
