# Multi-scale + flip testing of the toy ADE20K UperNet (as the full-size
# upernet_vit-small-p16_ade20k-512x512_ms-flip-test.py):
#   python tools/test.py THIS_CONFIG work_dirs/RUN/iter_1000.pth
_base_ = './upernet_vit-toy-p8-mst-toy_1xb4-1k_toy-ade20k.py'

model = dict(_delete_=True, type='SegTTAModel', module=_base_.model)
test_dataloader = dict(dataset=dict(pipeline=_base_.tta_pipeline))
