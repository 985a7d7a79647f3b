# SETR-PUP (the paper's segmentation protocol) on a plain ViT-S/16, mmpretrain's
# VisionTransformer: the main head on block 12, auxiliary heads on blocks 4, 6, 8.
_base_ = ['mmseg::_base_/models/setr_pup.py', '../../_base_/vit-small-p16_dense.py']
custom_imports = dict(imports=['mst_mm'], allow_failed_imports=False)

embed_dims = 384
num_classes = 19
norm_cfg = dict(type='SyncBN', requires_grad=True)
model = dict(
    pretrained=None,
    backbone={{_base_.vit_small_dense_backbone}},
    decode_head=dict(in_channels=embed_dims, num_classes=num_classes, norm_cfg=norm_cfg),
    auxiliary_head=[
        dict(type='SETRUPHead', in_channels=embed_dims, channels=256, in_index=i,
             num_classes=num_classes, dropout_ratio=0, norm_cfg=norm_cfg, num_convs=2,
             up_scale=4, kernel_size=3, align_corners=False,
             loss_decode=dict(type='CrossEntropyLoss', use_sigmoid=False, loss_weight=0.4))
        for i in range(3)
    ])

custom_hooks = [dict(type='PretrainedBackboneCheckHook')]
