# MST on ViT-S/16 (DeiT-S: 384 wide, 12 blocks, 6 heads), DINO head and loss,
# attention-guided mask and global image decoder.
embed_dims = 384
out_channels = 65536
model = dict(
    type='MST',
    data_preprocessor=dict(
        type='MultiViewDataPreprocessor',  # mmpretrain's, without its syncs
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=True),
    backbone=dict(
        type='DINOVisionTransformer',  # DINO's ViT initialisation
        arch='deit-small',
        img_size=224,
        patch_size=16,
        drop_path_rate=0.1,
        out_type='raw'),
    head=dict(
        type='DINOHead',
        in_channels=embed_dims,
        out_channels=out_channels,
        hidden_channels=2048,
        bottleneck_channels=256),
    dino_loss=dict(
        type='DINOLoss',
        out_channels=out_channels,
        student_temp=0.1,
        teacher_temp=0.07,
        warmup_teacher_temp=0.04,
        warmup_teacher_temp_epochs=30,
        center_momentum=0.9),
    # Low-attention patches are candidates; each is masked with probability mask_prob.
    mask_generator=dict(
        type='AttentionGuidedMaskGenerator',
        strategy='low',
        candidate_ratio=0.5,
        mask_prob=0.5),
    decoder=dict(
        type='GlobalImageDecoder',
        in_channels=embed_dims,
        patch_size=16,
        channels=(128, 64, 32, 16)),
    restore_loss=dict(type='PixelReconstructionLoss', criterion='L1'),
    restore_weight=1.0,  # lambda in L = L_dino + lambda * L_restore
    num_global_crops=2,
    teacher_momentum=0.004,  # mmengine's convention: DINO's 0.996
    teacher_end_momentum=0.,  # DINO's 1.0
)
