# Multi-scale (x0.5-1.75) + flip testing of the ADE20K UperNet on ViT-S/16 (mmseg's
# SegTTAModel and the dataset's tta_pipeline), for a checkpoint of any of its trainings
# (MST, DINO, random init, supervised: the model is the same):
#   python tools/test.py THIS_CONFIG work_dirs/RUN/iter_160000.pth
_base_ = './upernet_vit-small-p16-mst-100e_8xb2-160k_ade20k-512x512.py'

model = dict(_delete_=True, type='SegTTAModel', module=_base_.model)
test_dataloader = dict(dataset=dict(pipeline=_base_.tta_pipeline))
