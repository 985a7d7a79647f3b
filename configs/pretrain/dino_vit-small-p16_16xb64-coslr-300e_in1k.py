# The DINO baseline pre-trained for 300 epochs, beside the 300-epoch MST of the ImageNet
# linear evaluation (the paper: MST 76.9% top-1, DINO 1.0 lower).
_base_ = './dino_vit-small-p16_16xb64-coslr-100e_in1k.py'

train_cfg = dict(max_epochs=300)
