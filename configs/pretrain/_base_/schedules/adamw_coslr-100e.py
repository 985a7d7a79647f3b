# DINO's optimisation for ViT-S/16: AdamW, lr 5e-4 x batch / 256 after a 10-epoch linear
# warm-up, cosine to 1e-6; weight decay cosine 0.04 -> 0.4 (not on norms and biases);
# each parameter tensor's gradient norm clipped at 3.0 (DINO's clip_gradients); last
# layer frozen in epoch 0.
max_epochs = 100
warmup_epochs = 10
base_lr = 5e-4 * 1024 / 256  # for 1024 images per iteration (16 GPUs x 64)

optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=base_lr, betas=(0.9, 0.999), weight_decay=0.04),
    clip_grad=None,  # ClipGradHook below clips as DINO does
    paramwise_cfg=dict(norm_decay_mult=0., bias_decay_mult=0.),
    # DINO's two groups (with and without weight decay), not mmengine's one per tensor
    constructor='MergedGroupsOptimWrapperConstructor')

# The cosine schedules run to train_cfg.max_epochs (mmengine's default `end`), so a
# config with another length only changes max_epochs.
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', eta_min=1e-6, by_epoch=True, begin=warmup_epochs,
         convert_to_iter_based=True),
    # eta_min_ratio=10: 0.04 -> 0.4, while groups without decay stay at 0.
    dict(type='CosineAnnealingParamScheduler', param_name='weight_decay',
         eta_min_ratio=10., by_epoch=True, begin=0, convert_to_iter_based=True),
]

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=max_epochs)
custom_hooks = [
    dict(type='FreezeLastLayerHook', num_epochs=1),
    # per_tensor=False clips the global norm over all tensors instead.
    dict(type='ClipGradHook', max_norm=3.0, per_tensor=True),
    # Warns when the teacher sits at uniform or one-prototype collapse for a whole epoch
    # (DINOLoss logs the entropies it checks every logging interval).
    dict(type='CollapseWarningHook', uniform_kl=0.1, one_prototype_entropy=0.1),
]
# DINO's linear scaling rule, on by default: the lr is base_lr x (processes x images
# per process) / base_batch_size, whatever the number of GPUs.
auto_scale_lr = dict(base_batch_size=1024, enable=True)
