# A miniature MST that pre-trains on CPU in minutes on the built-in toy scenes
# (python tools/dataset_converters/make_toy_data.py data/toy).
# A 4-block, 96-wide ViT with 8 px patches; 64 px global and 32 px local crops.
_base_ = ['./mst_vit-small-p16_16xb64-coslr-100e_in1k.py', '../_base_/vit-toy-p8.py']

embed_dims = 96
# 64 prototypes and a teacher temperature of 0.02 from the start. With DINO's warm-up
# from 0.04 to 0.07 (and 1024 prototypes), a run of a few hundred steps sits at uniform
# collapse (loss_dino at log K, teacher_kl_uniform near 0); at 0.04 it stays near it; at
# 0.02 loss_dino falls well below log K; at 0.01 the teacher first puts nearly every
# image on one or two prototypes for several epochs.
out_channels = 64
teacher_temp = 0.02
warmup_epochs = 2

model = dict(
    # DINO's teacher momentum for short runs, 0.99 (0.996 for 100 epochs): a teacher
    # that averages only the last ~100 steps, as the toy runs are ~100 steps long.
    teacher_momentum=0.01,
    backbone=dict(
        arch={{_base_.vit_toy_arch}},
        img_size=64,
        patch_size=8,
        drop_path_rate=0.),
    head=dict(in_channels=embed_dims, out_channels=out_channels, hidden_channels=256,
              bottleneck_channels=64),
    dino_loss=dict(out_channels=out_channels, warmup_teacher_temp=teacher_temp,
                   teacher_temp=teacher_temp, warmup_teacher_temp_epochs=0),
    decoder=dict(in_channels=embed_dims, patch_size=8, channels=(32, 16, 8)))

# Toy data: an ImageNet-style folder whose classes are the toy shapes.
data_root = 'data/toy/imagenet/'
num_local_crops = 4
color_augment = [
    dict(type='RandomFlip', prob=0.5),
    dict(type='RandomApply',
         transforms=[dict(type='FastColorJitter', brightness=0.4, contrast=0.4,
                          saturation=0.2, hue=0.1)],
         prob=0.8),
    dict(type='FastRandomGrayscale', prob=0.2),
]
blur = dict(type='RandomGaussianBlur', sigma_range=(0.1, 2.0))
global_crop = dict(type='PILRandomResizedCrop', scale=64, crop_ratio_range=(0.4, 1.0),
                   interpolation='bicubic')
local_crop = dict(type='PILRandomResizedCrop', scale=32, crop_ratio_range=(0.05, 0.4),
                  interpolation='bicubic')
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='MultiView',
         num_views=[1, 1, num_local_crops],
         transforms=[[global_crop, *color_augment, dict(blur, prob=1.0)],
                     [global_crop, *color_augment, dict(blur, prob=0.1),
                      dict(type='Solarize', thr=128, prob=0.2)],
                     [local_crop, *color_augment, dict(blur, prob=0.5)]]),
    dict(type='PackInputs'),
]
train_dataloader = dict(
    batch_size=32,
    num_workers=2,
    persistent_workers=False,
    pin_memory=False,
    dataset=dict(
        _delete_=True,
        type='CustomDataset',
        data_root=data_root,
        ann_file='meta/train.txt',
        data_prefix='train',
        pipeline=train_pipeline))

base_lr = 1e-3
optim_wrapper = dict(optimizer=dict(lr=base_lr))
train_cfg = dict(max_epochs=20)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=warmup_epochs,
         convert_to_iter_based=True),
    dict(type='CosineAnnealingParamScheduler', param_name='weight_decay',
         eta_min_ratio=10., by_epoch=True, begin=0, convert_to_iter_based=True),
]
default_hooks = dict(
    logger=dict(interval=4),
    checkpoint=dict(interval=5, max_keep_ckpts=2))
auto_scale_lr = dict(base_batch_size=32)
# MST's mechanisms on the toy COCO val (64 images) at the start and with every checkpoint,
# logged as scalars mechanism/* (TensorBoard: --tensorboard); about 1 % of the run's time.
custom_hooks = [
    dict(type='FreezeLastLayerHook', num_epochs=1),
    dict(type='ClipGradHook', max_norm=3.0, per_tensor=True),
    dict(type='CollapseWarningHook', uniform_kl=0.1, one_prototype_entropy=0.1),
    dict(type='AttentionMetricsHook', interval=5,
         ann_file='data/toy/coco/annotations/instances_val2017.json',
         img_dir='data/toy/coco/val2017'),
]
