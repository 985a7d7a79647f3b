# UperNet (the protocol of later self-supervised papers) on a plain ViT-S/16: blocks 4, 6,
# 8, 12 resampled to strides 4-32 by ViTMultiScaleNeck, then mmseg's UPerHead and an FCN
# auxiliary head.
_base_ = [
    'mmseg::_base_/models/upernet_vit-b16_ln_mln.py', '../../_base_/vit-small-p16_dense.py'
]
custom_imports = dict(imports=['mst_mm'], allow_failed_imports=False)

embed_dims = 384
num_classes = 19
model = dict(
    pretrained=None,
    backbone={{_base_.vit_small_dense_backbone}},
    neck=dict(_delete_=True, type='ViTMultiScaleNeck', in_channels=embed_dims,
              scales=(4, 2, 1, 0.5), norm_cfg=dict(type='SyncBN')),
    decode_head=dict(in_channels=[embed_dims] * 4, num_classes=num_classes),
    auxiliary_head=dict(in_channels=embed_dims, num_classes=num_classes))

custom_hooks = [dict(type='PretrainedBackboneCheckHook')]
