from .transforms import (FastColorJitter, FastRandomGrayscale, PILRandomResizedCrop,
                         RandomGaussianBlur)

__all__ = ['FastColorJitter', 'FastRandomGrayscale', 'PILRandomResizedCrop',
           'RandomGaussianBlur']

try:  # mmsegmentation: needed by the segmentation configs only
    import mmseg  # noqa: F401
except ImportError:  # pre-training runs without it (e.g. a GPU node with no mmseg)
    pass
else:
    from .cityscapes import CheckedCityscapesDataset, ToyCityscapesDataset  # noqa: F401
    __all__ += ['CheckedCityscapesDataset', 'ToyCityscapesDataset']
