import importlib.util
import warnings

from .transforms import (FastColorJitter, FastRandomGrayscale, PILRandomResizedCrop,
                         RandomGaussianBlur)

__all__ = ['FastColorJitter', 'FastRandomGrayscale', 'PILRandomResizedCrop',
           'RandomGaussianBlur']

# mmsegmentation is needed by the segmentation configs only: pre-training runs without
# it (a GPU node with mmcv built without ops, say).
try:
    from .cityscapes import CheckedCityscapesDataset, ToyCityscapesDataset  # noqa: F401
except ImportError as error:
    if importlib.util.find_spec('mmseg') is not None:
        warnings.warn(f'mmsegmentation is installed but does not import ({error}); the '
                      'Cityscapes datasets of the segmentation configs are not registered.')
else:
    __all__ += ['CheckedCityscapesDataset', 'ToyCityscapesDataset']
