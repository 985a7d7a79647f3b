# UperNet on ADE20K from the MST ViT-S/16 pre-trained for 100 epochs: 512x512 crops, 8 GPUs
# x 2 images, 160k iterations, layer-wise lr decay 0.65 (the ADE20K protocol of BEiT, iBOT
# and MAE; the MST paper gives no ADE20K figure). Extract the backbone first
# (tools/model_converters/extract_backbone.py); another pre-trained ViT:
# --cfg-options pretrained=OTHER.pth. tools/test.py with this config tests at a single
# scale (512x512 slides); multi-scale + flip testing:
#   upernet_vit-small-p16_ade20k-512x512_ms-flip-test.py
pretrained = 'checkpoints/mst_vit-small-p16_16xb64-coslr-100e_in1k_backbone.pth'

_base_ = [
    './_base_/upernet_vit-small-p16.py',
    './_base_/ade20k_512x512.py',
    'mmseg::_base_/default_runtime.py',
    './_base_/adamw_layer-decay_160k.py',
]

crop_size = (512, 512)
num_classes = 150
model = dict(
    data_preprocessor=dict(size=crop_size),
    backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)),
    decode_head=dict(num_classes=num_classes),
    auxiliary_head=dict(num_classes=num_classes),
    test_cfg=dict(mode='slide', crop_size=crop_size, stride=(341, 341)))
optim_wrapper = dict(paramwise_cfg=dict(layer_decay_rate=0.65))
train_dataloader = dict(batch_size=2)
