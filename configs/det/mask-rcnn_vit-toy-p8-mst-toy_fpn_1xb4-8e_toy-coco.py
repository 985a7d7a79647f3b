# The miniature COCO transfer: Mask R-CNN on the toy MST ViT (96 wide, 4 blocks, 8 px
# patches) fine-tuned on the built-in COCO-format toy scenes, on CPU in minutes, with
# real COCO box and mask AP (pycocotools). Pre-train and extract first:
#   python tools/train.py configs/pretrain/mst_vit-toy-p8_1xb32-20e_toy.py
#   python tools/model_converters/extract_backbone.py \
#       work_dirs/mst_vit-toy-p8_1xb32-20e_toy/epoch_20.pth $pretrained
pretrained = 'work_dirs/mst_vit-toy-p8_1xb32-20e_toy/backbone.pth'

_base_ = [
    './mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py', '../_base_/vit-toy-p8.py'
]

embed_dims = 96
channels = 64
classes = ('circle', 'cross', 'square', 'star', 'triangle')
model = dict(
    backbone=dict(
        arch={{_base_.vit_toy_arch}},
        img_size=64,
        patch_size=8,
        drop_path_rate=0.,
        out_indices=(0, 1, 2, 3),
        init_cfg=dict(checkpoint=pretrained)),
    neck=[
        dict(type='ViTMultiScaleNeck', in_channels=embed_dims, scales=(2, 1, 0.5, 0.25),
             norm_cfg=dict(type='BN')),
        dict(type='FPN', in_channels=[embed_dims] * 4, out_channels=channels, num_outs=5,
             norm_cfg=dict(type='BN')),
    ],
    rpn_head=dict(in_channels=channels, feat_channels=channels),
    roi_head=dict(
        bbox_roi_extractor=dict(out_channels=channels),
        bbox_head=dict(in_channels=channels, fc_out_channels=256, num_classes=len(classes)),
        mask_roi_extractor=dict(out_channels=channels),
        mask_head=dict(num_convs=2, in_channels=channels, conv_out_channels=channels,
                       num_classes=len(classes))),
    train_cfg=dict(rcnn=dict(sampler=dict(num=128))),
    test_cfg=dict(rpn=dict(nms_pre=300, max_per_img=300)))

data_root = 'data/toy/coco/'
image_scale = (256, 128)
metainfo = dict(classes=classes)
train_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='RandomFlip', prob=0.5),
    dict(type='PackDetInputs'),
]
test_pipeline = [
    dict(type='LoadImageFromFile'),
    dict(type='Resize', scale=image_scale, keep_ratio=True),
    dict(type='LoadAnnotations', with_bbox=True, with_mask=True),
    dict(type='PackDetInputs',
         meta_keys=('img_id', 'img_path', 'ori_shape', 'img_shape', 'scale_factor')),
]
train_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4,
    num_workers=2,
    persistent_workers=False,
    dataset=dict(data_root=data_root, metainfo=metainfo, pipeline=test_pipeline))
test_dataloader = val_dataloader
val_evaluator = dict(ann_file=data_root + 'annotations/instances_val2017.json')
test_evaluator = val_evaluator

max_epochs = 8
train_cfg = dict(max_epochs=max_epochs, val_interval=max_epochs)
optim_wrapper = dict(optimizer=dict(lr=4e-4))
param_scheduler = [
    dict(type='LinearLR', start_factor=0.01, by_epoch=False, begin=0, end=50),
    dict(type='MultiStepLR', begin=0, end=max_epochs, by_epoch=True, milestones=[6, 7],
         gamma=0.1),
]
default_hooks = dict(logger=dict(interval=16), checkpoint=dict(interval=max_epochs))
auto_scale_lr = dict(base_batch_size=4)
