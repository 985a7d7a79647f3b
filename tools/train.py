#!/usr/bin/env python
"""Train a model from an MMEngine config: MST pre-training, or a transfer task.

Examples:
    python tools/train.py configs/pretrain/mst_vit-toy-p8_1xb32-20e_toy.py
    python tools/train.py CONFIG --work-dir work_dirs/run     # resumes if it holds checkpoints
    python tools/train.py CONFIG --resume work_dirs/run/epoch_5.pth
    python tools/train.py CONFIG --amp --cfg-options train_dataloader.batch_size=32
    python tools/train.py CONFIG --amp bf16                   # bfloat16 autocast (GPU)
    torchrun --nproc_per_node=2 tools/train.py CONFIG --launcher pytorch
    # a transfer config from another pre-trained backbone (see extract_backbone.py):
    python tools/train.py configs/det/CONFIG --cfg-options pretrained=BACKBONE.pth
"""
import argparse
import fcntl
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.runner import Runner

import mst_mm  # noqa: F401  (registers the modules, weights-only checkpoint loading)
from mst_mm.checkpoint import CheckpointFileError
from mst_mm.engine.checkpoints import (ResumeError, check_resume_checkpoint,
                                       find_resume_checkpoint)
from mst_mm.engine.config_checks import ConfigError, check_training_config
from mst_mm.engine.non_finite import NonFiniteError
from mst_mm.utils import launch


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the config file to train with')
    parser.add_argument('--work-dir', help='where logs and checkpoints go '
                        '(default: work_dirs/<config name>)')
    resume = parser.add_mutually_exclusive_group()
    resume.add_argument('--resume', nargs='?', type=str, const='auto', default='auto',
                        help='resume from CHECKPOINT. Without it (or with no value), a run '
                        'resumes on its own from the newest complete checkpoint in the '
                        'work dir, if there is one, so a preempted or requeued job goes on')
    resume.add_argument('--no-resume', dest='resume', action='store_const', const=None,
                        help='start from scratch even if the work dir holds checkpoints')
    parser.add_argument('--amp', nargs='?', const='fp16', choices=['fp16', 'bf16'],
                        help='automatic mixed precision (AmpOptimWrapper): fp16 with a '
                        'dynamic loss scale (the default), or bf16, which needs none')
    parser.add_argument('--tensorboard', action='store_true',
                        help='also log the training curves for TensorBoard '
                        '(WORK_DIR/<timestamp>/vis_data)')
    scale = parser.add_mutually_exclusive_group()
    scale.add_argument('--auto-scale-lr', dest='auto_scale_lr', action='store_const',
                       const=True, help="scale the learning rate by the real batch size "
                       "(processes x images per process) over the config's "
                       "auto_scale_lr.base_batch_size (the pre-training and linear configs "
                       "do so by default: DINO's linear scaling rule)")
    scale.add_argument('--no-auto-scale-lr', dest='auto_scale_lr', action='store_const',
                       const=False, help="train with the config's learning rate as it is")
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys, e.g. model.restore_weight=0.5; '
                        "pretrained=PATH replaces a transfer config's backbone checkpoint")
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                        help='how the processes were started')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def build_config(args) -> Config:
    if not osp.isfile(args.config):
        raise SystemExit(f'Config file not found: {args.config}')
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    if 'pretrained' in args.cfg_options:
        set_pretrained(cfg, args.cfg_options['pretrained'])
    if args.work_dir:
        cfg.work_dir = args.work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(args.config))[0])
    if args.amp:
        if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
            print('AMP is already on in this config.')
        else:
            cfg.optim_wrapper.type = 'AmpOptimWrapper'
            if args.amp == 'bf16':
                cfg.optim_wrapper.dtype = 'bfloat16'
                cfg.optim_wrapper.setdefault('loss_scale', dict(enabled=False))
            else:
                cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    if args.tensorboard:
        backends = list(cfg.visualizer.get('vis_backends') or [dict(type='LocalVisBackend')])
        backends.append(dict(type='TensorboardVisBackend'))
        cfg.visualizer.vis_backends = backends
    if args.auto_scale_lr is not None:
        if args.auto_scale_lr and not (cfg.get('auto_scale_lr') or {}).get('base_batch_size'):
            raise SystemExit(f'--auto-scale-lr: {args.config} sets no '
                             'auto_scale_lr.base_batch_size to scale from.')
        cfg.setdefault('auto_scale_lr', {})['enable'] = args.auto_scale_lr
    try:
        check_training_config(cfg)
    except ConfigError as e:
        raise SystemExit(f'{args.config}: {e}')
    make_resumable(cfg)
    stop_on_non_finite(cfg)
    set_resume(cfg, args.resume)
    return cfg


def set_resume(cfg: Config, resume) -> None:
    """Resume from ``resume`` ('auto': the work dir's newest complete checkpoint, if any).

    The checkpoint is checked before anything is written: a file that is not a training
    checkpoint of this config's model, or a work dir whose checkpoints are all unreadable,
    stops the run with the reason.
    """
    if resume is None:
        return
    try:
        if resume == 'auto':
            resume = find_resume_checkpoint(cfg.work_dir, MMLogger.get_current_instance())
            if resume is None:
                return
            print(f'Resuming from {resume}, the newest checkpoint in {cfg.work_dir} '
                  '(--no-resume starts over).', flush=True)
        check_resume_checkpoint(resume, cfg)
    except ResumeError as e:
        raise SystemExit(f'--resume: {e}')
    cfg.resume, cfg.load_from = True, resume


def make_resumable(cfg: Config) -> None:
    """Exact mid-epoch resume for epoch-based training, a checkpoint on preemption, and
    a log line with the batch and learning rate the run trains with."""
    train_cfg = cfg.get('train_cfg') or {}
    if train_cfg.get('type', 'EpochBasedTrainLoop' if train_cfg.get('by_epoch') else None) \
            in ('EpochBasedTrainLoop', 'mmengine.EpochBasedTrainLoop'):
        train_cfg.pop('by_epoch', None)
        train_cfg['type'] = 'mmengine.ExactResumeEpochBasedTrainLoop'
    hooks = list(cfg.get('custom_hooks') or [])
    for hook in ('PreemptionCheckpointHook', 'BatchAndLrLogHook'):
        if not any(hook in str(h.get('type')) for h in hooks):
            hooks.append(dict(type=f'mmengine.{hook}'))
    cfg.custom_hooks = hooks


def stop_on_non_finite(cfg: Config) -> None:
    """Stop at the first non-finite loss, and never save non-finite weights."""
    hooks = list(cfg.get('custom_hooks') or [])
    if not any('NonFiniteCheckHook' in str(h.get('type')) for h in hooks):
        hooks.append(dict(type='mmengine.NonFiniteCheckHook'))
    cfg.custom_hooks = hooks


def set_pretrained(cfg: Config, checkpoint: str) -> None:
    """Point the backbone's init_cfg at ``checkpoint`` (the config's ``pretrained``)."""
    if 'pretrained' not in cfg._cfg_dict or 'backbone' not in cfg.get('model', {}):
        raise SystemExit('pretrained=... applies to transfer configs, which define a '
                         f'top-level `pretrained`; {cfg.filename} does not.')
    if not osp.isfile(checkpoint):
        raise SystemExit(f'pretrained checkpoint not found: {checkpoint}')
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=checkpoint)


def lock_work_dir(work_dir: str):
    """Refuse to start while another run trains in the same work dir.

    An exclusive lock on WORK_DIR/.train.lock, held by the first process (rank 0) for
    its lifetime and released by the system when it ends, however it ends.
    """
    os.makedirs(work_dir, exist_ok=True)
    handle = open(osp.join(work_dir, '.train.lock'), 'a')
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise SystemExit(f'{work_dir} is in use by another training run (lock '
                         f'{handle.name}); wait for it to end or use another --work-dir.')
    return handle


def main():
    args = parse_args()
    cfg = build_config(args)
    if int(os.environ.get('RANK', os.environ.get('SLURM_PROCID', 0))) == 0:
        lock = lock_work_dir(cfg.work_dir)  # noqa: F841  (held until the process ends)
    launch(cfg, args.launcher)
    runner = Runner.from_cfg(cfg)
    try:
        runner.train()
    except (NonFiniteError, CheckpointFileError) as e:
        raise SystemExit(f'error: {e}')


if __name__ == '__main__':
    main()
