# ImageNet for DINO's linear and k-NN evaluation (eval_linear.py, eval_knn.py): mmpretrain's
# ImageNet dataloaders with DINO's transforms, resized with PIL as DINO's are (PIL
# antialiases when it shrinks; OpenCV does not). Train: random resized crop 224
# (bilinear, area 0.08-1) and flip; evaluation: short side 256 (bicubic), centre crop 224.
_base_ = 'mmpretrain::_base_/datasets/imagenet_bs64.py'

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PILRandomResizedCrop', scale=224, interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=256, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='PackInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=test_pipeline))
test_dataloader = val_dataloader
