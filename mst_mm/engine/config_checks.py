"""Config values that the libraries accept silently or refuse far from the cause.

``tools/train.py`` runs ``check_training_config`` before building anything, so that the
error names the config key to change:

* ``MultiView.num_views``: mmpretrain repeats each view list ``num_views`` times, so a
  negative number silently drops those views (the local crops of DINO's multi-crop).
* A warm-up longer than the schedule: the scheduler that follows it begins after the
  end of training, which mmengine refuses with "end should be larger than begin".
* bfloat16 autocast for a detector: mmcv 2.1.0's detection ops (NMS, RoIAlign) have no
  bfloat16 kernels, on CUDA or the CPU, and Mask R-CNN stops at its first proposals
  (``expected scalar type Float but found BFloat16``); fp16 is mmdet's supported path.
"""
from typing import Iterator, Tuple

from mmengine.config import Config


class ConfigError(ValueError):
    """A config value that would fail or silently misbehave, with the key to change."""


def _dicts(value, path: str) -> Iterator[Tuple[str, dict]]:
    """Every dict inside ``value`` with its dotted key, as ``--cfg-options`` spells it."""
    if isinstance(value, dict):
        yield path, value
        items = value.items()
    elif isinstance(value, (list, tuple)):
        items = enumerate(value)
    else:
        return
    for key, item in items:
        yield from _dicts(item, f'{path}.{key}' if path else str(key))


def check_multi_view(cfg: Config) -> None:
    """Every ``MultiView`` of the data loaders asks for a non-negative number of views."""
    for loader in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        for path, transform in _dicts(cfg.get(loader), loader):
            if str(transform.get('type', '')).split('.')[-1] != 'MultiView':
                continue
            num_views = transform.get('num_views')
            counts = num_views if isinstance(num_views, (list, tuple)) else [num_views]
            if not all(isinstance(n, int) and not isinstance(n, bool) and n >= 0
                       for n in counts) or sum(counts) == 0:
                raise ConfigError(f'{path}.num_views={num_views}: the number of views of '
                                  'each view list must be an integer >= 0, and one at '
                                  'least must be > 0.')
            transforms = transform.get('transforms') or []
            if len(counts) != len(transforms):
                raise ConfigError(f'{path}.num_views={num_views}: one number per view list '
                                  f'of {path}.transforms, which has {len(transforms)}.')


def check_schedule(cfg: Config) -> None:
    """No parameter scheduler begins where the training has already ended."""
    schedulers = cfg.get('param_scheduler') or []
    if isinstance(schedulers, dict) and 'type' not in schedulers:  # one list per optimizer
        groups = [(f'param_scheduler.{name}', s) for name, s in schedulers.items()]
    else:
        groups = [('param_scheduler', schedulers)]
    train_cfg = cfg.get('train_cfg') or {}
    length = {True: ('train_cfg.max_epochs', train_cfg.get('max_epochs')),
              False: ('train_cfg.max_iters', train_cfg.get('max_iters'))}
    for prefix, group in groups:
        group = [group] if isinstance(group, dict) else list(group)
        for i, scheduler in enumerate(group):
            name = f'{prefix}.{i} ({scheduler.get("type")})'
            begin = scheduler.get('begin', 0)
            if 'end' in scheduler:
                if begin >= scheduler['end']:
                    raise ConfigError(f'{name}: {prefix}.{i}.begin={begin} is not before '
                                      f'{prefix}.{i}.end={scheduler["end"]}.')
                continue
            key, limit = length[bool(scheduler.get('by_epoch', True))]
            if limit is None or begin < limit:
                continue
            warmup = next((f'the warm-up ({prefix}.{j}.end={s["end"]}) is as long as the '
                           f'schedule or longer. Shorten it (and {prefix}.{i}.begin)'
                           for j, s in enumerate(group[:i]) if s.get('end') == begin),
                          f'lower {prefix}.{i}.begin')
            raise ConfigError(f'{name} begins at {begin}, when the training has ended '
                              f'({key}={limit}): {warmup} or train longer.')


def check_precision(cfg: Config) -> None:
    """No bfloat16 autocast for mmdet's detectors."""
    optim_wrapper = cfg.get('optim_wrapper') or {}
    if (str(optim_wrapper.get('type', '')).split('.')[-1] == 'AmpOptimWrapper'
            and str(optim_wrapper.get('dtype')) in ('bfloat16', 'torch.bfloat16')
            and cfg.get('default_scope') == 'mmdet'):
        raise ConfigError('optim_wrapper.dtype=bfloat16 (--amp bf16): mmcv 2.1.0 has no '
                          'bfloat16 kernels for the detectors\' NMS and RoIAlign, so Mask '
                          'R-CNN would stop at its first proposals. Use --amp (fp16, '
                          "mmdet's supported mixed precision) or fp32.")


def check_training_config(cfg: Config) -> None:
    """All the checks above; raises ``ConfigError`` naming the key."""
    check_multi_view(cfg)
    check_schedule(cfg)
    check_precision(cfg)
