# Add to a config's _base_ to also score with the official cityscapesscripts evaluation
# (CityscapesMetric writes the predictions as label-id PNGs under output_dir).
val_evaluator = [
    dict(type='IoUMetric', iou_metrics=['mIoU']),
    dict(type='CityscapesMetric', output_dir='work_dirs/cityscapes_predictions',
         keep_results=True),
]
test_evaluator = val_evaluator
