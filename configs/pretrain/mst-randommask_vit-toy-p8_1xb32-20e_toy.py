# The random-mask ablation of the miniature benchmark.
_base_ = './mst_vit-toy-p8_1xb32-20e_toy.py'

model = dict(mask_generator=dict(strategy='random'))
