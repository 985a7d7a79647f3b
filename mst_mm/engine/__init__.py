from .hooks import FreezeLastLayerHook, PretrainedBackboneCheckHook
from .optimizers import BackboneLayerDecayOptimWrapperConstructor

__all__ = ['BackboneLayerDecayOptimWrapperConstructor', 'FreezeLastLayerHook',
           'PretrainedBackboneCheckHook']
