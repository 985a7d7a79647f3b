# The DINO baseline on ViT-B/16: MST with the mask off and lambda = 0.
_base_ = './mst_vit-base-p16_16xb64-coslr-100e_in1k.py'

model = dict(mask_generator=None, decoder=None, restore_weight=0.)
