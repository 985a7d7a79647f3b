"""Weights-only checkpoint loading for mmengine checkpoints on torch >= 2.6.

torch loads with ``weights_only=True`` by default, which refuses the few non-tensor
objects that mmengine stores in a checkpoint's ``message_hub`` (its ``HistoryBuffer``
and the numpy arrays and scalars inside it), so ``--resume`` fails out of the box.
Instead of switching weights-only loading off (a checkpoint is a pickle; weights-only
is what keeps a downloaded one from running code), exactly those classes are
allow-listed.

mmengine also pickles, inside every ``HistoryBuffer``, its class-level table of
statistics functions as ``getattr(HistoryBuffer, 'mean')`` and so on. Allowing
``getattr`` would let a pickle reach any attribute of an allowed object, so instead
the buffers that this package's runs write leave that table out: it is class state,
registered again when mmengine is imported.
"""
import importlib

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer


def _numpy_checkpoint_globals() -> list:
    """numpy's array and scalar reconstruction, as found in a real resume."""
    multiarray = importlib.import_module(
        'numpy.core.multiarray' if np.__version__ < '2' else 'numpy._core.multiarray')
    # The histories are float64 arrays and int64 counts.
    dtypes = [type(np.dtype('float64')), type(np.dtype('int64'))]
    return [multiarray._reconstruct, multiarray.scalar, np.ndarray, np.dtype, *dtypes]


def _history_buffer_state(buffer: HistoryBuffer) -> dict:
    """A HistoryBuffer's own data, without the class's statistics functions."""
    state = buffer.__dict__.copy()
    state.pop('statistics_methods', None)
    return state


def allow_mmengine_checkpoints() -> None:
    """Make mmengine checkpoints load with ``weights_only=True``."""
    HistoryBuffer.__getstate__ = _history_buffer_state
    torch.serialization.add_safe_globals([HistoryBuffer, *_numpy_checkpoint_globals()])
