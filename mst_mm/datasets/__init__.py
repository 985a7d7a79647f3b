from .cityscapes import CheckedCityscapesDataset, ToyCityscapesDataset
from .coco import CheckedCocoDataset
from .transforms import FastRandomGrayscale, RandomGaussianBlur

__all__ = ['CheckedCityscapesDataset', 'CheckedCocoDataset', 'FastRandomGrayscale',
           'RandomGaussianBlur', 'ToyCityscapesDataset']
