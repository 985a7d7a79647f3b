"""Every checkpoint is loaded weights-only: it is an untrusted pickle.

A checkpoint is a pickle, and unpickling can run any code. ``torch.load`` with
``weights_only=True`` builds only tensors, plain containers and the classes allowed
here, so a downloaded or planted file cannot run code. torch makes that the default, but
the default can be switched off (``TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1``), and a call that
asks for ``weights_only=False`` (``torch.hub``) bypasses it. So:

* ``load_weights_only`` asks for it explicitly, and turns a refusal into one line that
  names the file (never torch's advice to switch the protection off);
* importing the package makes mmengine load every checkpoint this way (``load_from=``,
  ``resume``, ``init_cfg=dict(type='Pretrained')``): local files through
  ``load_weights_only``, and the other schemes (URLs, ``open-mmlab://``, ...) under
  torch's own ``TORCH_FORCE_WEIGHTS_ONLY_LOAD`` switch, which no caller can override;
* the few non-tensor objects that mmengine stores in a checkpoint's ``message_hub``
  (its ``HistoryBuffer`` and the numpy arrays and scalars inside it) are allow-listed,
  so that ``--resume`` works.

mmengine also pickles, inside every ``HistoryBuffer``, its class-level table of
statistics functions as ``getattr(HistoryBuffer, 'mean')`` and so on. Allowing
``getattr`` would let a pickle reach any attribute of an allowed object, so instead
the buffers that this package's runs write leave that table out: it is class state,
registered again when mmengine is imported.
"""
import contextlib
import functools
import importlib
import os
import os.path as osp
import pickle
import re
import warnings
from typing import Callable, Sequence

import numpy as np
import torch
from mmengine.logging.history_buffer import HistoryBuffer
from mmengine.runner.checkpoint import CheckpointLoader


# How a checkpoint file begins: torch.save's zip format (which can be memory-mapped), or
# the pickle of torch's legacy format (protocol 2 or later).
ZIP_MAGIC, PICKLE_MAGIC = b'PK\x03\x04', b'\x80'


class CheckpointFileError(ValueError):
    """A file that is not a checkpoint, or not one that loads weights-only."""


class NotPlainCheckpointError(CheckpointFileError):
    """A file that is not a plain checkpoint (tensors and data): refused unloaded."""


def _why_refused(message: str) -> str:
    found = re.search(r'GLOBAL (\S+) was not an allowed global', message)
    if found:
        return f'it would build {found.group(1)}'
    found = re.search(r'Unsupported operand (\d+)', message)
    if found:
        return f'pickle opcode {found.group(1)}, which only a full unpickler reads'
    return 'it holds more than tensors and plain data'


def _not_plain(source: str, error: Exception) -> NotPlainCheckpointError:
    return NotPlainCheckpointError(
        f'{source}: not a plain checkpoint, refused by weights-only loading '
        f'({_why_refused(str(error))}).')


def load_weights_only(path: str, map_location='cpu', mmap: bool = False,
                      allowed: Sequence[type] = ()) -> object:
    """``torch.load(path, weights_only=True)``, with errors that name the file.

    Args:
        path (str): The checkpoint file.
        map_location: As for ``torch.load``. Defaults to ``'cpu'``.
        mmap (bool): Map the file instead of reading it (only what is used is read).
        allowed (Sequence[type]): Classes allowed for this load only, beyond the
            package's allow-list.

    Raises:
        FileNotFoundError: No such file.
        NotPlainCheckpointError: The file holds objects that weights-only loading
            refuses to build (a pickle that would run code, or a class not allowed).
        CheckpointFileError: The file is not a PyTorch checkpoint (empty, truncated,
            other).
    """
    path = osp.expanduser(str(path))
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path}: no such checkpoint file.')
    with open(path, 'rb') as f:
        head = f.read(4)
    if not head.startswith((ZIP_MAGIC, PICKLE_MAGIC)):
        raise CheckpointFileError(f'{path}: not a PyTorch checkpoint ('
                         + ('an empty file).' if not head else
                            'neither the zip format of torch.save nor a pickle).'))
    with warnings.catch_warnings(), torch.serialization.safe_globals(list(allowed)):
        # torch warns about the pickle protocol of files not written by torch.save.
        warnings.filterwarnings('ignore', message='Detected pickle protocol')
        try:
            return torch.load(path, map_location=map_location, weights_only=True,
                              mmap=mmap and head == ZIP_MAGIC)
        except pickle.UnpicklingError as error:
            raise _not_plain(path, error) from None
        except Exception as error:  # noqa: BLE001  (torch raises many kinds for a non-checkpoint)
            first_line = re.split(r'(?<=\.) |\n', str(error))[0][:200]
            raise CheckpointFileError(f'{path}: not a PyTorch checkpoint '
                                      f'({type(error).__name__}: {first_line}).') from None


# -- mmengine: every checkpoint through weights-only loading ---------------------------

def load_from_local_weights_only(filename: str, map_location=None) -> object:
    """mmengine's loader of local files (scheme ``''``), weights-only."""
    return load_weights_only(filename, map_location=map_location)


@contextlib.contextmanager
def _forced_weights_only():
    """torch's own switch: every ``torch.load`` inside is weights-only, even one that
    asks for ``weights_only=False``. It is process-wide while a checkpoint loads, which
    only makes a concurrent load safer."""
    saved = {name: os.environ.pop(name, None) for name in
             ('TORCH_FORCE_WEIGHTS_ONLY_LOAD', 'TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD')}
    os.environ['TORCH_FORCE_WEIGHTS_ONLY_LOAD'] = '1'
    try:
        yield
    finally:
        del os.environ['TORCH_FORCE_WEIGHTS_ONLY_LOAD']
        os.environ.update({k: v for k, v in saved.items() if v is not None})


def _weights_only_scheme(loader: Callable) -> Callable:
    """An mmengine scheme loader (URL, ``open-mmlab://``, ...) run weights-only."""
    if getattr(loader, 'weights_only', False):
        return loader

    @functools.wraps(loader)
    def load(filename, map_location=None):
        with _forced_weights_only():
            try:
                return loader(filename, map_location)
            except pickle.UnpicklingError as error:
                raise _not_plain(filename, error) from None

    load.weights_only = True
    return load


def load_checkpoints_weights_only() -> None:
    """Make mmengine's ``CheckpointLoader`` load every scheme weights-only."""
    load_from_local_weights_only.weights_only = True
    CheckpointLoader.register_scheme(prefixes='', loader=load_from_local_weights_only, force=True)
    for prefix, loader in list(CheckpointLoader._schemes.items()):
        CheckpointLoader.register_scheme(prefixes=prefix, loader=_weights_only_scheme(loader),
                                         force=True)


# -- what mmengine's training checkpoints hold -----------------------------------------

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
