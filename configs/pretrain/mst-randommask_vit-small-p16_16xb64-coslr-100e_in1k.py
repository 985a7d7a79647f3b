# Masking ablation: the same expected number of masked patches, chosen uniformly.
_base_ = './mst_vit-small-p16_16xb64-coslr-100e_in1k.py'

model = dict(mask_generator=dict(strategy='random'))
