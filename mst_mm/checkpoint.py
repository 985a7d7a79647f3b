"""Weights-only checkpoint loading for mmengine checkpoints on torch >= 2.6.

torch loads with ``weights_only=True`` by default, which refuses the few non-tensor
objects that mmengine stores in a checkpoint's ``message_hub`` (its ``HistoryBuffer``
and the numpy arrays and scalars inside it), so ``--resume`` fails out of the box.
Instead of switching weights-only loading off (a checkpoint is a pickle; weights-only
is what keeps a downloaded one from running code), exactly those classes are
allow-listed.
"""
import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer


def _numpy_checkpoint_globals() -> list:
    """numpy's array and scalar reconstruction and the dtype classes used by mmengine."""
    multiarray = getattr(np, '_core', np.core).multiarray
    dtypes = [type(np.dtype(name)) for name in
              ('float64', 'float32', 'int64', 'int32', 'bool')]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype, *dtypes]


def allow_mmengine_checkpoints() -> None:
    """Allow-list the classes an mmengine checkpoint needs for weights-only loading."""
    torch.serialization.add_safe_globals([HistoryBuffer, *_numpy_checkpoint_globals()])
