# DINO's multi-crop augmentation on ImageNet (mmpretrain's layout under data/imagenet/),
# built from mmpretrain's transforms: 2 global crops of 224 px, N local crops of 96 px.
dataset_type = 'ImageNet'
data_root = 'data/imagenet/'
num_local_crops = 8  # 0 allowed

color_augment = [
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomApply',
         transforms=[dict(type='FastColorJitter', brightness=0.4, contrast=0.4,
                          saturation=0.2, hue=0.1)],
         prob=0.8),
    dict(type='FastRandomGrayscale', prob=0.2),
]
# Crops resized as DINO's: PIL's bicubic, which antialiases when it shrinks (local crops
# shrink up to ~2.5x); OpenCV's bicubic would alias.
global_crop = dict(type='PILRandomResizedCrop', scale=224, crop_ratio_range=(0.4, 1.0),
                   interpolation='bicubic')
local_crop = dict(type='PILRandomResizedCrop', scale=96, crop_ratio_range=(0.05, 0.4),
                  interpolation='bicubic')
blur = dict(type='RandomGaussianBlur', sigma_range=(0.1, 2.0))

global_view_1 = [global_crop, *color_augment, dict(blur, prob=1.0)]
global_view_2 = [global_crop, *color_augment, dict(blur, prob=0.1),
                 dict(type='Solarize', thr=128, prob=0.2)]
local_view = [local_crop, *color_augment, dict(blur, prob=0.5)]

train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView',
         num_views=[1, 1, num_local_crops],
         transforms=[global_view_1, global_view_2, local_view]),
    dict(type='PackInputs'),
]

train_dataloader = dict(
    batch_size=64,
    num_workers=8,
    persistent_workers=True,
    pin_memory=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    collate_fn=dict(type='default_collate'),
    drop_last=True,
    dataset=dict(
        type=dataset_type,
        data_root=data_root,
        split='train',
        pipeline=train_pipeline))
