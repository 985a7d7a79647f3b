# MST, ViT-S/16, 300 epochs (the paper's ImageNet linear-evaluation run: 76.9% top-1).
_base_ = './mst_vit-small-p16_16xb64-coslr-100e_in1k.py'

train_cfg = dict(max_epochs=300)
