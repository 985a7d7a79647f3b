from ..utils.optional import import_optional
from .transforms import (FastColorJitter, FastRandomGrayscale, PILRandomResizedCrop,
                         RandomGaussianBlur)

__all__ = ['FastColorJitter', 'FastRandomGrayscale', 'PILRandomResizedCrop',
           'RandomGaussianBlur']

# The checked datasets of the transfer configs need mmdet or mmsegmentation.
_optional = import_optional(__name__, [
    ('coco', 'mmdet', ['CheckedCocoDataset']),
    ('cityscapes', 'mmseg', ['CheckedCityscapesDataset', 'ToyCityscapesDataset']),
    ('ade20k', 'mmseg', ['CheckedADE20KDataset', 'ToyADE20KDataset'])])
globals().update(_optional)
__all__ += list(_optional)
