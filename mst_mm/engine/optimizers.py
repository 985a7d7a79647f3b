"""Layer-wise learning-rate decay for detectors and segmentors with a ViT backbone."""
from functools import partial

from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS

from mmpretrain.engine.optimizers import LearningRateDecayOptimWrapperConstructor


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class BackboneLayerDecayOptimWrapperConstructor(LearningRateDecayOptimWrapperConstructor):
    """mmpretrain's layer-wise lr decay, for any model whose ``backbone`` has
    ``get_layer_depth`` (mmpretrain's ViT), such as mmdet's Mask R-CNN and mmseg's
    segmentors, which have no ``get_layer_depth`` of their own.

    Backbone parameters get ``layer_decay_rate ** (depth from the top)``; the neck and
    heads count as the last layer and keep the base lr. Registered in mmengine's root
    registry, so configs of every scope find it.
    """

    def add_params(self, params, module, prefix='', get_layer_depth=None, **kwargs):
        if get_layer_depth is None and prefix == '' and not hasattr(module, 'get_layer_depth'):
            backbone = getattr(module, 'backbone', None)
            if backbone is None or not hasattr(backbone, 'get_layer_depth'):
                raise TypeError(f'{type(module).__name__} has no backbone with '
                                '`get_layer_depth`: layer-wise lr decay needs a ViT backbone.')
            get_layer_depth = partial(backbone.get_layer_depth, prefix='backbone.')
        super().add_params(params, module, prefix, get_layer_depth, **kwargs)
