# The miniature ADE20K transfer: the UperNet of the ADE20K configs on the toy MST ViT (96
# wide, 4 blocks, 8 px patches), fine-tuned on the built-in toy scenes in the ADE20K
# layout (label 0 the background, "other" and ignored as in ADE20K; 1-5 the shapes), on
# CPU in minutes, with a real mIoU and per-class IoU. Slide inference as in the full
# config. Pre-train and extract first (see configs/det/ toy config).
pretrained = 'work_dirs/mst_vit-toy-p8_1xb32-20e_toy/backbone.pth'

_base_ = [
    './upernet_vit-small-p16-mst-100e_8xb2-160k_ade20k-512x512.py',
    '../_base_/vit-toy-p8.py',
]

embed_dims = 96
num_classes = 5
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
    neck=dict(in_channels=embed_dims, scales=(2, 1, 0.5, 0.25), norm_cfg=norm_cfg),
    decode_head=dict(in_channels=[embed_dims] * 4, channels=64, num_classes=num_classes,
                     norm_cfg=norm_cfg),
    auxiliary_head=dict(in_channels=embed_dims, channels=32, num_classes=num_classes,
                        norm_cfg=norm_cfg),
    test_cfg=dict(crop_size=crop_size, stride=(96, 96)))

# ADE20K's pipelines at the scale of the toy scenes (256x128 instead of 2048x512).
data_root = 'data/toy/ade20k/'
image_scale = (256, 128)
scaled = dict(RandomResize=dict(scale=image_scale), Resize=dict(scale=image_scale),
              RandomCrop=dict(crop_size=crop_size))
train_pipeline = [dict(t, **scaled.get(t.type, {})) for t in _base_.train_pipeline]
test_pipeline = [dict(t, **scaled.get(t.type, {})) for t in _base_.test_pipeline]
loader = dict(num_workers=2, persistent_workers=False)
train_dataloader = dict(batch_size=4, **loader, dataset=dict(
    type='ToyADE20KDataset', data_root=data_root, pipeline=train_pipeline))
val_dataloader = dict(**loader, dataset=dict(
    type='ToyADE20KDataset', data_root=data_root, pipeline=test_pipeline))
test_dataloader = val_dataloader

max_iters = 1000
train_cfg = dict(max_iters=max_iters, val_interval=max_iters)
# 10x the ViT-S rate, as the toy SETR: at 5e-4 the toy decoders barely leave the floor in
# the few hundred steps of the toy presets.
optim_wrapper = dict(optimizer=dict(lr=5e-3))
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-3, by_epoch=False, begin=0, end=20),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=20),
]
default_hooks = dict(
    logger=dict(interval=50),
    checkpoint=dict(by_epoch=False, interval=max_iters))
