# The DINO baseline: MST with the mask off and lambda = 0 (no [MASK] token, no decoder).
_base_ = './mst_vit-small-p16_16xb64-coslr-100e_in1k.py'

model = dict(mask_generator=None, decoder=None, restore_weight=0.)
