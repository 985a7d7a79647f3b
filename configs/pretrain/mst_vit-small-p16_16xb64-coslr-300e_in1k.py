# MST, ViT-S/16, 300 epochs (the paper's ImageNet linear-evaluation run: 76.9% top-1).
_base_ = './mst_vit-small-p16_16xb64-coslr-100e_in1k.py'

max_epochs = 300
warmup_epochs = 10
train_cfg = dict(max_epochs=max_epochs)
param_scheduler = [
    dict(type='LinearLR', start_factor=1e-6, by_epoch=True, begin=0,
         end=warmup_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingLR', T_max=max_epochs - warmup_epochs, eta_min=1e-6,
         by_epoch=True, begin=warmup_epochs, end=max_epochs, convert_to_iter_based=True),
    dict(type='CosineAnnealingParamScheduler', param_name='weight_decay',
         eta_min_ratio=10., T_max=max_epochs, by_epoch=True, begin=0, end=max_epochs,
         convert_to_iter_based=True),
]
