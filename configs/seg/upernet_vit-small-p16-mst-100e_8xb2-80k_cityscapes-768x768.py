# UperNet on Cityscapes from the MST ViT-S/16 pre-trained for 100 epochs.
pretrained = 'checkpoints/mst_vit-small-p16_16xb64-coslr-100e_in1k_backbone.pth'

_base_ = [
    './_base_/upernet_vit-small-p16.py',
    './_base_/cityscapes_768x768.py',
    'mmseg::_base_/default_runtime.py',
    './_base_/adamw_layer-decay_80k.py',
]

crop_size = (768, 768)
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(512, 512)))  # 1024x2048 slides
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.65))
train_dataloader = dict(batch_size=2)
