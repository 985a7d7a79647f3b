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
import os

from mmengine.config import DictAction
from mmengine.runner import Runner

import mst_mm  # noqa: F401  (registers the modules, weights-only checkpoint loading)
from mst_mm.engine.config_checks import ConfigError
from mst_mm.engine.non_finite import NonFiniteError
from mst_mm.engine.training import (build_training_config, check_device,
                                    lock_work_dir)
from mst_mm.safe_load import CheckpointFileError
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


def main():
    args = parse_args()
    try:
        cfg = build_training_config(
            args.config, args.cfg_options, work_dir=args.work_dir, amp=args.amp,
            tensorboard=args.tensorboard, auto_scale_lr=args.auto_scale_lr,
            resume=args.resume)
        if int(os.environ.get('RANK', os.environ.get('SLURM_PROCID', 0))) == 0:
            lock = lock_work_dir(cfg.work_dir)  # noqa: F841  (held until the process ends)
    except ConfigError as e:
        raise SystemExit(str(e))
    launch(cfg, args.launcher)
    try:
        check_device(cfg)
    except ConfigError as e:
        raise SystemExit(f'error: {e}')
    runner = Runner.from_cfg(cfg)
    try:
        runner.train()
    except (NonFiniteError, CheckpointFileError) as e:
        raise SystemExit(f'error: {e}')


if __name__ == '__main__':
    main()
