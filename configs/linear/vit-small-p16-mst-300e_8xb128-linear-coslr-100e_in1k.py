# ImageNet linear evaluation of the MST ViT-S/16 pre-trained for 300 epochs (the paper's
# 76.9% top-1). Extract the backbone first (tools/model_converters/extract_backbone.py);
# another backbone: --cfg-options pretrained=OTHER.pth
pretrained = 'checkpoints/mst_vit-small-p16_16xb64-coslr-300e_in1k_backbone.pth'

_base_ = [
    './_base_/vit-small-p16_linear.py',
    './_base_/imagenet_dino-eval.py',
    './_base_/sgd_coslr-100e.py',
    'mmpretrain::_base_/default_runtime.py',
]

model = dict(backbone=dict(init_cfg=dict(type='Pretrained', checkpoint=pretrained)))
train_dataloader = dict(batch_size=128)
val_dataloader = dict(batch_size=128)
test_dataloader = val_dataloader
default_hooks = dict(checkpoint=dict(interval=10, max_keep_ckpts=2))
