from .cityscapes import CheckedCityscapesDataset, ToyCityscapesDataset
from .transforms import FastRandomGrayscale, RandomGaussianBlur

__all__ = ['CheckedCityscapesDataset', 'FastRandomGrayscale', 'RandomGaussianBlur',
           'ToyCityscapesDataset']
