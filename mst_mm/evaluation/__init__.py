"""Measures of MST's mechanisms (attention on objects, masking, restoration)."""
from .attention_metrics import METRIC_KEYS, AnnotatedCrop, CocoCrops, Measurement, measure

__all__ = ['METRIC_KEYS', 'AnnotatedCrop', 'CocoCrops', 'Measurement', 'measure']
