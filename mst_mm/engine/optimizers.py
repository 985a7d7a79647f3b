"""Optimizer constructors: layer-wise learning-rate decay for detectors and segmentors
with a ViT backbone, and parameter groups merged by their settings for pre-training."""
from functools import partial

from mmengine.optim import DefaultOptimWrapperConstructor
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


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class MergedGroupsOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """mmengine's constructor, with the parameters of equal settings in one group.

    With a ``paramwise_cfg`` (no weight decay on norms and biases, as DINO), mmengine
    makes one parameter group per tensor: some 200 for MST's ViT-S, head and decoder.
    The optimizer then launches its kernels group by group, and on a GPU the step waits
    on those launches (13 ms of the bf16 step's GPU timeline spanned the optimizer for
    2.6 ms of its kernels). Here the groups that differ only in their tensors are merged,
    in their first tensor's order: DINO's two groups, with and without weight decay. The
    same settings for every tensor, and the same updates. (Checkpoints of a run with
    per-tensor groups do not resume into merged groups.)
    """

    def add_params(self, params, module, prefix='', is_dcn_module=None) -> None:
        if prefix or params:  # a recursive call of mmengine's: leave it as it is
            return super().add_params(params, module, prefix, is_dcn_module)
        per_tensor = []
        super().add_params(per_tensor, module, prefix, is_dcn_module)
        merged = {}
        for group in per_tensor:
            settings = tuple(sorted((k, v) for k, v in group.items() if k != 'params'))
            merged.setdefault(settings, dict(group, params=[]))['params'] += group['params']
        params.extend(merged.values())
