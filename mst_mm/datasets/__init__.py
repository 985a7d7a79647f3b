from .ade20k import CheckedADE20KDataset, ToyADE20KDataset
from .cityscapes import CheckedCityscapesDataset, ToyCityscapesDataset
from .coco import CheckedCocoDataset
from .transforms import FastRandomGrayscale, RandomGaussianBlur

__all__ = ['CheckedADE20KDataset', 'CheckedCityscapesDataset', 'CheckedCocoDataset',
           'FastRandomGrayscale', 'RandomGaussianBlur', 'ToyADE20KDataset',
           'ToyCityscapesDataset']
