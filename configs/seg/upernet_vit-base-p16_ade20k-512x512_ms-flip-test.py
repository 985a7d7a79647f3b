# Multi-scale (x0.5-1.75) + flip testing of the ADE20K UperNet on ViT-B/16, for a
# checkpoint of any of its trainings (as the ViT-S/16 one).
_base_ = './upernet_vit-base-p16-mst-100e_8xb2-160k_ade20k-512x512.py'

model = dict(_delete_=True, type='SegTTAModel', module=_base_.model)
test_dataloader = dict(dataset=dict(pipeline=_base_.tta_pipeline))
