from .hooks import FreezeLastLayerHook

__all__ = ['FreezeLastLayerHook']
