"""mmdet's COCO metric, scoring a model without a single detection as 0 AP."""
from mmengine.logging import print_log

from mmdet.evaluation import CocoMetric
from mmdet.registry import METRICS

AP_ITEMS = ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')


@METRICS.register_module()
class CheckedCocoMetric(CocoMetric):
    """``CocoMetric`` that reports AP 0, with a warning, when the model detected nothing
    on any image.

    mmdet's logs "The testing results of the whole dataset is empty" and reports no
    metric at all: the test exits 0 without a number, and a benchmark table shows the run
    as unfinished instead of at 0 AP. Same arguments and keys as ``CocoMetric``.
    """

    def compute_metrics(self, results: list) -> dict:
        if self.format_only or any(len(pred['bboxes']) for _, pred in results):
            return super().compute_metrics(results)
        print_log(f'No detection on any of the {len(results)} images: box and mask AP '
                  'are 0.', logger='current', level=30)
        return {f'{metric}_{item}': 0.0 for metric in self.metrics
                if metric in ('bbox', 'segm') for item in AP_ITEMS}
