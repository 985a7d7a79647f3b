import importlib
import importlib.util
import warnings

from .transforms import (FastColorJitter, FastRandomGrayscale, PILRandomResizedCrop,
                         RandomGaussianBlur)

__all__ = ['FastColorJitter', 'FastRandomGrayscale', 'PILRandomResizedCrop',
           'RandomGaussianBlur']

# The checked datasets of the transfer configs need mmdet or mmsegmentation; pre-training
# runs without them (a GPU node with mmcv built without ops, say).
for _module, _library, _names in (
        ('coco', 'mmdet', ['CheckedCocoDataset']),
        ('cityscapes', 'mmseg', ['CheckedCityscapesDataset', 'ToyCityscapesDataset']),
        ('ade20k', 'mmseg', ['CheckedADE20KDataset', 'ToyADE20KDataset'])):
    try:
        _loaded = importlib.import_module(f'.{_module}', __name__)
    except ImportError as error:
        if importlib.util.find_spec(_library) is not None:
            warnings.warn(f'{_library} is installed but does not import ({error}); the '
                          f'datasets {_names} of its configs are not registered.')
        continue
    globals().update({name: getattr(_loaded, name) for name in _names})
    __all__ += _names
