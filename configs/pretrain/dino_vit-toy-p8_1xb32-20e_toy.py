# The DINO baseline of the miniature benchmark: the toy MST with the mask off and lambda 0.
_base_ = './mst_vit-toy-p8_1xb32-20e_toy.py'

model = dict(mask_generator=None, decoder=None, restore_weight=0.)
