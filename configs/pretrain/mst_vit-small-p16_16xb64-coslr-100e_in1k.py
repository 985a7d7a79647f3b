# MST, ViT-S/16, 16 GPUs x 64 images, 100 epochs on ImageNet-1k (the transfer tables' run).
_base_ = [
    '_base_/models/mst_vit-small-p16.py',
    '_base_/datasets/imagenet_multicrop.py',
    '_base_/schedules/adamw_coslr-100e.py',
    '_base_/default_runtime.py',
]
