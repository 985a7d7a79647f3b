# Mask R-CNN on a plain ViT-S/16 (mmpretrain's VisionTransformer): the features of blocks
# 4, 6, 8 and 12 are resampled to strides 4, 8, 16, 32 (transposed convolutions up,
# max pooling down) and fed to mmdet's FPN. Everything else is mmdet's Mask R-CNN.
_base_ = 'mmdet::_base_/models/mask-rcnn_r50_fpn.py'
custom_imports = dict(imports=['mst_mm'], allow_failed_imports=False)

embed_dims = 384
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    backbone=dict(
        _delete_=True,
        type='mmpretrain.VisionTransformer',
        arch='deit-small',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        out_indices=(3, 5, 7, 11),
        out_type='featmap',
        final_norm=False),  # the top-level config sets init_cfg: the pre-trained checkpoint
    neck=[
        dict(type='ViTMultiScaleNeck', in_channels=embed_dims, scales=(4, 2, 1, 0.5),
             norm_cfg=dict(type='SyncBN')),
        dict(type='FPN', in_channels=[embed_dims] * 4, out_channels=256, num_outs=5),
    ])

# Say what the backbone loaded, and stop if its weights did not load.
custom_hooks = [dict(type='PretrainedBackboneCheckHook')]
