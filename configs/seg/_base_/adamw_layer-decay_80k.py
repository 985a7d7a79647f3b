# 80k iterations, AdamW with layer-wise lr decay (0.65 in the segmentation configs), linear
# warm-up then poly decay.
_base_ = ['mmseg::_base_/schedules/schedule_80k.py', '../../_base_/adamw_layer-decay.py']

optim_wrapper = {{_base_.adamw_layer_decay_optim_wrapper}}
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=False, begin=0, end=1500),
    dict(type='PolyLR', power=1.0, eta_min=0.0, by_epoch=False, begin=1500),
]
