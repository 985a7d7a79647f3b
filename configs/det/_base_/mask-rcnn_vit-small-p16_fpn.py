# Mask R-CNN on a plain ViT-S/16 (mmpretrain's VisionTransformer): the features of blocks
# 4, 6, 8 and 12 are resampled to strides 4, 8, 16, 32 (transposed convolutions up,
# max pooling down) and fed to mmdet's FPN, with a norm after its convolutions (as
# ViTDet's pyramid has): the blocks' features are taken before any final norm, and
# without one in the FPN their growing scale blows up the RoI features and kills the box
# head's ReLUs (measured on the toy detector: RoI features of std 490, 99 % of the
# second FC's units dead after 256 steps, constant scores; with the norm, std 0.7).
# Everything else is mmdet's Mask R-CNN.
_base_ = ['mmdet::_base_/models/mask-rcnn_r50_fpn.py', '../../_base_/vit-small-p16_dense.py']
custom_imports = dict(imports=['mst_mm'], allow_failed_imports=False)

embed_dims = 384
model = dict(
    data_preprocessor=dict(pad_size_divisor=32),
    backbone={{_base_.vit_small_dense_backbone}},
    neck=[
        dict(type='ViTMultiScaleNeck', in_channels=embed_dims, scales=(4, 2, 1, 0.5),
             norm_cfg=dict(type='SyncBN')),
        dict(type='FPN', in_channels=[embed_dims] * 4, out_channels=256, num_outs=5,
             norm_cfg=dict(type='SyncBN')),
    ])

# Say what the backbone loaded, and stop if its weights did not load.
custom_hooks = [dict(type='PretrainedBackboneCheckHook')]
