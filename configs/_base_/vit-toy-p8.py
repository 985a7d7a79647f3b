# The toy ViT of the miniature benchmark: 96 wide, 4 blocks, 3 heads (used with 8 px
# patches on 64 px crops). Every toy config uses this arch.
vit_toy_arch = dict(
    _delete_=True, embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384)
