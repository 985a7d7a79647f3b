# DINO's linear schedule: SGD, lr 0.001 x batch / 256, momentum 0.9, no weight decay,
# cosine to 0 over 100 epochs, validated every epoch (the table reports the best and the
# last top-1, as DINO reports its best).
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.001 * 1024 / 256, momentum=0.9, weight_decay=0.))
param_scheduler = [dict(type='CosineAnnealingLR', eta_min=0., by_epoch=True, begin=0)]
train_cfg = dict(by_epoch=True, max_epochs=100, val_interval=1)
val_cfg = dict()
test_cfg = dict()
# DINO's linear scaling rule, on by default: lr x (processes x images per process) / 1024.
auto_scale_lr = dict(base_batch_size=1024, enable=True)
