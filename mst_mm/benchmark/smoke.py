"""The smoke run of the full benchmark: its own plan at real size, cut short.

``tools/run_benchmark.py --preset full --smoke`` writes synthetic data at the real
datasets' sizes and layouts (``mst_mm.datasets.toy.full_size``) and runs every step of
the full preset's plan through the same commands, with three things cut down (each
overridable): the training iterations, the number of images and the images per
process. Everything else is the full configs': the models (ViT-S/16 with K = 65536
prototypes, 2 x 224 + 8 x 96 crops; Mask R-CNN at the 1333 x 800 resize; SETR on 768
crops with slide inference over the whole 2048 x 1024 image; ...), the data pipelines,
the evaluators and the table. It measures what each config costs (s/iter, peak memory)
and fails on anything that would waste a cluster's days: a non-finite loss, a backbone
that did not load, a test without its metric, a missing table cell.
"""
import os.path as osp
from dataclasses import dataclass
from typing import Dict, List

from mmengine.config import Config

from .plan import ROOT

# The loaders' keys that a smoke run sets, where the config has the loader.
LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')


@dataclass
class SmokeSize:
    """How far a smoke run cuts the full preset down."""
    iters: int = 2  # training iterations of each run (a warm-up and a decay: 2 at least)
    images: int = 2  # validation and test images (and k-NN, mechanism images)
    batch: int = 1  # images per process in training

    def __post_init__(self) -> None:
        for name, least in (('iters', 2), ('images', 1), ('batch', 1)):
            if getattr(self, name) < least:
                raise ValueError(f'--smoke-{name} must be at least {least}, got '
                                 f'{getattr(self, name)}')

    @property
    def train_images(self) -> int:
        """Training images: one epoch of ``iters`` iterations."""
        return self.iters * self.batch


def train_batch(cfg: Config, size: SmokeSize) -> int:
    """Images per process: ``size.batch``, 2 at least for a model whose batch norm sees a
    1 x 1 map (UperNet's pyramid pooling: one image gives one value per channel, which
    batch norm refuses in a single process)."""
    decode_head = (cfg.get('model') or {}).get('decode_head') or {}
    if str(decode_head.get('type', '')).split('.')[-1] == 'UPerHead':
        return max(2, size.batch)
    return size.batch


def loader_options(cfg: Config, size: SmokeSize, train_images: int) -> List[str]:
    """One process loading in the foreground, the cut-down image counts and batch."""
    options = ['default_hooks.logger.interval=1']
    for loader in LOADERS:
        if not cfg.get(loader):
            continue
        options += [f'{loader}.num_workers=0', f'{loader}.persistent_workers=False']
        if loader == 'train_dataloader':
            options += [f'{loader}.batch_size={train_batch(cfg, size)}',
                        f'{loader}.dataset.indices={train_images}']
        else:
            options += [f'{loader}.dataset.indices={size.images}']
    return options


def schedule_options(cfg: Config, size: SmokeSize) -> List[str]:
    """The training loop cut to ``size.iters`` iterations, its schedule kept valid."""
    loop = cfg.train_cfg
    if loop.get('max_iters'):  # the segmentation configs: warm-up, then poly decay
        return [f'train_cfg.max_iters={size.iters}',
                # no validation inside the run: the test step that follows measures it
                f'train_cfg.val_begin={size.iters + 1}',
                f'default_hooks.checkpoint.interval={size.iters}',
                f'param_scheduler.0.end={size.iters // 2}',
                f'param_scheduler.1.begin={size.iters // 2}']
    options = ['train_cfg.max_epochs=1']
    schedulers = cfg.get('param_scheduler') or []
    # An epoch-based warm-up followed by a scheduler that begins after it (pre-training):
    # both within the one epoch, the iterations split between them.
    if any(s.get('by_epoch', True) and s.get('begin', 0) > 0 for s in schedulers):
        options = ['train_cfg.max_epochs=2', 'param_scheduler.0.end=1',
                   'param_scheduler.1.begin=1']
    if cfg.get('val_dataloader') and cfg.get('val_cfg') is not None and \
            cfg.default_scope != 'mmpretrain':
        # tested by the test step instead (mmengine validates at the last epoch whatever
        # the interval, unless validation begins later)
        options += ['train_cfg.val_interval=2', 'train_cfg.val_begin=2']
    return options


def smoke_options(config: str, size: SmokeSize) -> List[str]:
    """``--cfg-options`` that cut the run of ``config`` down to ``size``."""
    cfg = Config.fromfile(osp.join(ROOT, config))
    schedule = schedule_options(cfg, size)
    epochs = 2 if 'train_cfg.max_epochs=2' in schedule else 1
    # Pre-training over two epochs: ``iters`` iterations in all (at least one each).
    train_images = train_batch(cfg, size) * max(1, size.iters // epochs)
    return loader_options(cfg, size, train_images) + schedule


def smoke_preset(preset: dict, size: SmokeSize) -> dict:
    """The full preset with every task's runs cut down to ``size``, on the synthetic
    full-size data (written to WORK_DIR/data, where the configs read it)."""
    smoke = dict(preset)
    tasks: Dict[str, str] = {'pretrain': preset['pretrain'][0]}
    for task in ('det', 'cascade', 'seg', 'ade', 'linear'):
        tasks[task] = preset[task][0]
    for task, config in tasks.items():
        smoke[f'{task}_options'] = smoke_options(config, size) + preset[f'{task}_options']
    smoke['attention_options'] = preset['attention_options'] + [
        '--max-images', str(size.images)]
    smoke['full_size_data'] = dict(num_train=max(size.train_images, 2 * size.iters),
                                   num_val=size.images)
    smoke['batch_per_process'] = {
        task: train_batch(Config.fromfile(osp.join(ROOT, config)), size)
        for task, config in tasks.items()}
    smoke['toy_data'] = None
    smoke['reference'] = False
    smoke['durations'] = dict(pretrain=120, extract=20, det=200, det_test=120, cascade=300,
                              cascade_test=150, seg=300, seg_test=300, ade=200,
                              ade_test=120, linear=60, linear_test=30, knn=30,
                              attention=60)
    return smoke
