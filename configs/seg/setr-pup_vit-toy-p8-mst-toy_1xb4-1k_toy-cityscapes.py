# The miniature Cityscapes transfer: SETR-PUP on the toy MST ViT (96 wide, 4 blocks, 8 px
# patches) fine-tuned on the built-in toy scenes in the Cityscapes layout, on CPU in
# minutes, with a real mIoU and per-class IoU of the toy classes. Slide inference as in
# the full config. Pre-train and extract first (see configs/det/ toy config).
pretrained = 'work_dirs/mst_vit-toy-p8_1xb32-20e_toy/backbone.pth'

_base_ = [
    './setr-pup_vit-small-p16-mst-100e_8xb1-80k_cityscapes-768x768.py',
    '../_base_/vit-toy-p8.py',
]

embed_dims = 96
num_classes = 6  # background + 5 shapes
crop_size = (128, 128)
norm_cfg = dict(type='BN', requires_grad=True)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(
        arch={{_base_.vit_toy_arch}},
        img_size=64,
        patch_size=8,
        drop_path_rate=0.,
        out_indices=(0, 1, 2, 3),
        init_cfg=dict(checkpoint=pretrained)),
    decode_head=dict(in_channels=embed_dims, channels=64, num_classes=num_classes,
                     num_convs=3, norm_cfg=norm_cfg),
    auxiliary_head=[
        dict(type='SETRUPHead', in_channels=embed_dims, channels=64, in_index=i,
             num_classes=num_classes, dropout_ratio=0, norm_cfg=norm_cfg, num_convs=1,
             up_scale=4, kernel_size=3, align_corners=False,
             loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4))
        for i in range(3)
    ],
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(96, 96)))

data_root = 'data/toy/cityscapes/'
image_scale = (256, 128)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations'),
    dict(type='RandomResize', scale=image_scale, ratio_range=(0.5, 2.0), keep_ratio=True),
    dict(type='RandomCrop', crop_size=crop_size, cat_max_ratio=0.75),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PhotoMetricDistortion'),
    dict(type='PackSegInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations'),
    dict(type='PackSegInputs'),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(type='ToyCityscapesDataset', data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(type='ToyCityscapesDataset', data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
# 10x the ViT-S rate: at 5e-4 the toy SETR predicts only the background after 600
# steps, with or without pre-training (mIoU 13.8); at 5e-3 it finds the shapes.
optim_wrapper = dict(optimizer=dict(lr=5e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=20),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=20),
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=max_iters))
