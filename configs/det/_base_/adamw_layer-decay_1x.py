# The 1x schedule (12 epochs, steps at 8 and 11) with AdamW and layer-wise lr decay 0.75.
_base_ = ['mmdet::_base_/schedules/schedule_1x.py', '../../_base_/adamw_layer-decay.py']

optim_wrapper = {{_base_.adamw_layer_decay_optim_wrapper}}
