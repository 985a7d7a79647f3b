# The miniature linear evaluation: the frozen toy MST ViT (96 wide, 4 blocks, 8 px patches)
# and a linear layer on the built-in toy ImageNet folders (one shape per image, labelled
# by its class); CPU, a minute.
pretrained = 'work_dirs/mst_vit-toy-p8_1xb32-20e_toy/backbone.pth'

_base_ = [
    './vit-small-p16-mst-300e_8xb128-linear-coslr-100e_in1k.py', '../_base_/vit-toy-p8.py'
]

embed_dims = 96
classes = ('circle', 'cross', 'square', 'star', 'triangle')
model = dict(
    backbone=dict(
        arch={{_base_.vit_toy_arch}},
        img_size=64,
        patch_size=8,
        init_cfg=dict(checkpoint=pretrained)),
    head=dict(num_classes=len(classes), in_channels=embed_dims * 4))

data_root = 'data/toy/imagenet/'
data_preprocessor = dict(num_classes=len(classes))
# DINO's evaluation transforms at the toy scale: the short side to 64 * 256 / 224 = 73
# and a centre crop of 64, resized with PIL as in the ImageNet configs.
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='PILRandomResizedCrop', scale=64, crop_ratio_range=(0.5, 1.0),
         interpolation='bilinear'),
    dict(type='RandomFlip', prob=0.5, direction='horizontal'),
    dict(type='PackInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='ResizeEdge', scale=73, edge='short', backend='pillow',
         interpolation='bicubic'),
    dict(type='CenterCrop', crop_size=64),
    dict(type='PackInputs'),
]
toy_dataset = dict(_delete_=True, type='CustomDataset', data_root=data_root,
                   metainfo=dict(classes=classes))
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(toy_dataset, ann_file='meta/train.txt', data_prefix='train',
                 pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=32,
    num_workers=2,
    dataset=dict(toy_dataset, ann_file='meta/val.txt', data_prefix='val',
                 pipeline=test_pipeline))
test_dataloader = val_dataloader

optim_wrapper = dict(optimizer=dict(lr=0.05))
train_cfg = dict(max_epochs=20, val_interval=1)
default_hooks = dict(logger=dict(interval=4), checkpoint=dict(interval=20))
auto_scale_lr = dict(base_batch_size=32)
