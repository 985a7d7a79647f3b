"""Checkpoints that survive a kill, and the choice of the one a training run resumes from.

* Every local file mmengine writes goes to a temporary file in the same folder, is
  flushed to disk and then renamed over its name (``AtomicLocalBackend``, registered as
  mmengine's ``local`` file backend). A process killed while writing a checkpoint leaves
  the previous checkpoints as they were and no partial file under a checkpoint's name.
  ``last_checkpoint`` is written only after the checkpoint it names is complete.
* ``find_resume_checkpoint`` takes the checkpoint ``last_checkpoint`` names and falls back
  to the newest complete checkpoint in the work dir when that one is unusable; a work dir
  whose checkpoints are all unreadable stops the run instead of starting over.
* ``check_resume_checkpoint`` refuses, before anything in the work dir is touched, a file
  that is not a training checkpoint or was written by a run of another model. The
  checkpoint's stored config is read as data (``read_config_data``), never run.
* ``check_model_checkpoint`` refuses a checkpoint that does not hold a model's weights
  (``tools/test.py``).
"""
import glob
import os
import os.path as osp
import tempfile
from typing import Optional, Union

from mmengine.config import Config
from mmengine.fileio import LocalBackend, register_backend

from ..safe_load import CheckpointFileError, load_weights_only
from ..utils.config_data import ConfigNotDataError, read_config_data


def atomic_write(data: Union[bytes, str], path: str) -> None:
    """Write ``data`` to ``path`` so that ``path`` is either the old file or the new one."""
    folder = osp.dirname(osp.abspath(path))
    os.makedirs(folder, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=f'.{osp.basename(path)}.', suffix='.tmp')
    try:
        with os.fdopen(fd, 'wb') as f:
            f.write(data.encode() if isinstance(data, str) else data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        if osp.exists(tmp):
            os.remove(tmp)
        raise


class AtomicLocalBackend(LocalBackend):
    """mmengine's local file backend whose writes are atomic (see ``atomic_write``)."""

    def put(self, obj: bytes, filepath) -> None:
        atomic_write(obj, str(filepath))

    def put_text(self, obj: str, filepath, encoding: str = 'utf-8') -> None:
        atomic_write(obj.encode(encoding), str(filepath))


register_backend('local', AtomicLocalBackend, force=True, prefixes='')


def write_last_checkpoint(work_dir: str, checkpoint: str) -> None:
    """Point ``WORK_DIR/last_checkpoint`` at ``checkpoint``, atomically."""
    atomic_write(checkpoint, osp.join(work_dir, 'last_checkpoint'))


class ResumeError(RuntimeError):
    """A checkpoint that a run cannot resume from."""


def _load(path: str) -> dict:
    try:
        # mmap: only the parts read (the meta) are read from disk.
        return load_weights_only(path, mmap=True)
    except (CheckpointFileError, OSError) as e:
        raise ResumeError(str(e)) from None


def _is_training_checkpoint(checkpoint) -> bool:
    """What ``Runner.save_checkpoint`` writes: weights, the loop's place and its logs."""
    return (isinstance(checkpoint, dict)
            and {'meta', 'state_dict', 'message_hub'} <= checkpoint.keys()
            and 'iter' in checkpoint['meta'])


def find_resume_checkpoint(work_dir: str, logger=None) -> Optional[str]:
    """The newest complete training checkpoint in ``work_dir``, or None if it holds none.

    ``last_checkpoint`` names it; when that file is missing, empty, or names a file that
    cannot be loaded, the checkpoints in the folder are read and the one of the latest
    iteration is taken, with a warning.

    Raises:
        ResumeError: when ``work_dir`` holds checkpoints but none of them can be resumed
            from, naming them and why: starting over would overwrite them.
    """
    named = None
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            named = f.read().strip() or None
    unusable = []
    if named is not None:
        try:
            if _is_training_checkpoint(_load(named)):
                return named
            unusable.append(f'{named} (named by {pointer}) is not a training checkpoint')
        except ResumeError as e:
            unusable.append(f'{pointer} names {e}' if osp.exists(named) else
                            f'{pointer} names {named}, which does not exist')
    found = []
    for path in sorted(glob.glob(osp.join(work_dir, '*.pth'))):
        if named is not None and osp.abspath(path) == osp.abspath(named):
            continue
        try:
            checkpoint = _load(path)
        except ResumeError as e:
            unusable.append(str(e))
            continue
        if _is_training_checkpoint(checkpoint):
            found.append((checkpoint['meta'].get('iter', -1), path))
    if not found:
        if unusable:
            raise ResumeError(
                f'{work_dir} holds checkpoints, but none to resume from: '
                + '; '.join(unusable) + '. Remove them, or start over in this work dir '
                'with --no-resume.')
        return None
    newest = max(found)[1]
    if unusable and logger is not None:
        logger.warning('; '.join(unusable) + f'. Resuming from {newest}, the newest '
                       'complete checkpoint.')
    return newest


def _plain(value):
    """Config values with lists and tuples made alike, for comparison."""
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return value


def _first_difference(a, b, prefix: str, ignore=('init_cfg',)) -> Optional[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        for key in sorted(set(a) | set(b), key=str):
            if key in ignore:
                continue
            if key not in a or key not in b:
                return f'{prefix}.{key} ({"missing" if key not in a else "present"} in the ' \
                       f'checkpoint, {"missing" if key not in b else "present"} in the config)'
            found = _first_difference(a[key], b[key], f'{prefix}.{key}', ignore)
            if found:
                return found
        return None
    if a != b:
        return f'{prefix} (checkpoint {a!r}, config {b!r})'
    return None


def check_resume_checkpoint(path: str, cfg: Config) -> None:
    """Refuse ``path`` unless it is a training checkpoint of the model in ``cfg``.

    Raises:
        ResumeError: naming the file and what is wrong with it.
    """
    if not osp.isfile(path):
        raise ResumeError(f'checkpoint not found: {path}')
    checkpoint = _load(path)
    if not _is_training_checkpoint(checkpoint):
        keys = sorted(checkpoint)[:5] if isinstance(checkpoint, dict) else type(checkpoint)
        raise ResumeError(
            f'{path} is not a training checkpoint of tools/train.py (it lacks the meta, '
            f'state_dict and message_hub that resuming needs; found {keys}). A converted '
            'backbone is loaded with `pretrained=`, not resumed.')
    meta = checkpoint['meta']
    if 'config' in meta:
        # mmengine's resume runs meta['config'] as Python; tools/train.py never writes it.
        raise ResumeError(f"{path} carries a meta['config'], which mmengine's resume would "
                          'run as Python code; checkpoints of tools/train.py have none. It '
                          'is not resumed.')
    saved = meta.get('cfg')
    if not isinstance(saved, str):
        raise ResumeError(f'{path} does not record the config it was trained with, so it '
                          'cannot be checked against this one.')
    try:
        saved_model = read_config_data(saved, f"{path} meta['cfg']").get('model')
    except ConfigNotDataError as e:
        raise ResumeError(f'{e} The stored config must be plain data to be compared with '
                          'this one (it is never run); this checkpoint is not resumed.')
    difference = _first_difference(_plain(saved_model), _plain(cfg.get('model')), 'model')
    if difference:
        raise ResumeError(f'{path} was written by a run of another model: it differs at '
                          f'{difference}. Resume it with its own config, or train this '
                          'config in another --work-dir.')


class CheckpointMismatchError(RuntimeError):
    """A checkpoint that does not hold the weights of the model it is given to."""


# What a checkpoint is, from its keys, for the errors below.
_KINDS = [('teacher.', 'an MST / DINO pre-training checkpoint (extract its backbone with '
                       'tools/model_converters/extract_backbone.py for a transfer config)'),
          ('roi_head.', 'a detector (Mask R-CNN)'), ('rpn_head.', 'a detector'),
          ('decode_head.', 'a segmentor'), ('head.fc.', 'a linear classifier'),
          ('patch_embed.', 'a backbone alone (a transfer config loads it with '
                           '`pretrained=`, not as the model)')]


def _kind(keys) -> str:
    return next((f' The file is {what}.' for prefix, what in _KINDS
                 if any(k.startswith(prefix) for k in keys)), '')


def check_model_checkpoint(path: str, model) -> None:
    """Refuse ``path`` unless it holds every weight of ``model``, in the model's shapes.

    What ``tools/test.py`` checks before testing: mmengine loads a checkpoint leniently,
    warning about missing keys, and would report the metrics of random weights.

    Raises:
        CheckpointMismatchError: naming the file, what is missing or of another shape,
            and what the file seems to be.
    """
    try:
        checkpoint = load_weights_only(path, mmap=True)
    except (CheckpointFileError, OSError) as e:
        raise CheckpointMismatchError(str(e)) from None
    state = checkpoint.get('state_dict', checkpoint) if isinstance(checkpoint, dict) else {}
    if not isinstance(state, dict):
        raise CheckpointMismatchError(f'{path} holds no state dict of weights.')
    state = {k[len('module.'):] if k.startswith('module.') else k: v
             for k, v in state.items()}
    expected = {k: v for k, v in model.state_dict().items()
                if not k.endswith('num_batches_tracked')}
    missing = [k for k in expected if k not in state]
    reshaped = [f'{k} {tuple(state[k].shape)} in the file, {tuple(v.shape)} in the model'
                for k, v in expected.items()
                if k in state and hasattr(state[k], 'shape') and state[k].shape != v.shape]
    if missing or reshaped:
        unexpected = [k for k in state if k not in expected]
        raise CheckpointMismatchError(
            f'{path} does not hold the weights of this config\'s model '
            f'({type(model).__name__}): '
            + (f'{len(missing)} of its {len(expected)} tensors are missing (e.g. '
               f'{missing[:3]}); ' if missing else '')
            + (f'{len(reshaped)} have another shape (e.g. {reshaped[0]}); '
               if reshaped else '')
            + f'{len(unexpected)} tensors of the file are not in the model.'
            + _kind(state))
