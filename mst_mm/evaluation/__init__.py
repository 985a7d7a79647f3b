"""Measures of MST's mechanisms (attention on objects, masking, restoration), and the
COCO metric of the detection configs."""
from ..utils.optional import import_optional
from .attention_metrics import METRIC_KEYS, AnnotatedCrop, CocoCrops, Measurement, measure

__all__ = ['METRIC_KEYS', 'AnnotatedCrop', 'CocoCrops', 'Measurement', 'measure']

_optional = import_optional(__name__, [('coco_metric', 'mmdet', ['CheckedCocoMetric'])])
globals().update(_optional)
__all__ += list(_optional)
