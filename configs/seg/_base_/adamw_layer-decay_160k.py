# 160k iterations (the ADE20K schedule of BEiT, iBOT and MAE): the 80k recipe run twice
# as long (the poly decay follows max_iters), validation and checkpoints every 16k.
_base_ = './adamw_layer-decay_80k.py'

train_cfg = dict(max_iters=160000, val_interval=16000)
default_hooks = dict(checkpoint=dict(interval=16000))
