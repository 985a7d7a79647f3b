# The plain ViT-S/16 backbone of every dense transfer config (mmpretrain's
# VisionTransformer across scopes, initialised as DINO's ViT when no checkpoint loads):
# the feature maps of blocks 4, 6, 8 and 12. The transfer configs set its init_cfg to
# the pre-trained checkpoint.
vit_small_dense_backbone = dict(
    _delete_=True,
    type='mmpretrain.DINOVisionTransformer',
    arch='deit-small',
    img_size=224,
    patch_size=16,
    drop_path_rate=0.1,
    out_indices=(3, 5, 7, 11),
    out_type='featmap',
    final_norm=False)
