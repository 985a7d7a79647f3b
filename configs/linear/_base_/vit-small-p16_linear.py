# DINO's linear protocol for ViT-S/16 on mmpretrain's ImageClassifier: a frozen backbone,
# the [CLS] tokens of the last 4 blocks concatenated (LinearProbeViT), a plain linear
# layer trained with SGD.
custom_imports = dict(imports=['mst_mm'], allow_failed_imports=False)

embed_dims = 384
num_blocks = 4
model = dict(
    type='ImageClassifier',
    backbone=dict(
        type='LinearProbeViT',
        arch='deit-small',
        img_size=224,
        patch_size=16,
        out_indices=(-4, -3, -2, -1),
        avgpool_patch_tokens=False),  # True adds the mean patch token (DINO's ViT-B)
    head=dict(
        type='LinearClsHead',
        num_classes=1000,
        in_channels=embed_dims * num_blocks,
        loss=dict(type='CrossEntropyLoss', loss_weight=1.0),
        init_cfg=dict(type='Normal', layer='Linear', std=0.01, bias=0.)))

custom_hooks = [dict(type='PretrainedBackboneCheckHook')]
