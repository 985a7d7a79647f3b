from .ade20k import CheckedADE20KDataset, ToyADE20KDataset
from .cityscapes import CheckedCityscapesDataset, ToyCityscapesDataset
from .transforms import FastRandomGrayscale, RandomGaussianBlur

__all__ = ['CheckedADE20KDataset', 'CheckedCityscapesDataset', 'FastRandomGrayscale',
           'RandomGaussianBlur', 'ToyADE20KDataset', 'ToyCityscapesDataset']
