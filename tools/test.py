#!/usr/bin/env python
"""Evaluate a trained model: its config's test set and metrics (COCO AP, mIoU, top-1).

Examples:
    python tools/test.py configs/det/CONFIG work_dirs/RUN/epoch_12.pth
    python tools/test.py CONFIG CHECKPOINT --work-dir work_dirs/RUN --out results.pkl
    torchrun --nproc_per_node=2 tools/test.py CONFIG CHECKPOINT --launcher pytorch
The metrics are printed and written to WORK_DIR/<timestamp>/<timestamp>.json.
The checkpoint is loaded weights-only, and refused, with the reason, unless it holds every
weight of the config's model (a detector's checkpoint given to a linear config, a
pre-training checkpoint given to a detector).
"""
import argparse
import os
import os.path as osp

from mmengine.config import Config, DictAction
from mmengine.model import BaseTTAModel, is_model_wrapper
from mmengine.runner import Runner

import mst_mm  # noqa: F401  (registers the modules, weights-only checkpoint loading)
from mst_mm.engine.config_checks import ConfigError
from mst_mm.engine.resume import CheckpointMismatchError, check_model_checkpoint
from mst_mm.engine.training import check_device
from mst_mm.utils import launch


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the config the model was trained with')
    parser.add_argument('checkpoint', help='the trained checkpoint')
    parser.add_argument('--work-dir', help='where the logs and metrics go (default: '
                        'work_dirs/<config name>)')
    parser.add_argument('--out', help='also dump the raw predictions to this pickle')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys')
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm'], default='none',
                        help='how the processes were started')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0,
                        help=argparse.SUPPRESS)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main():
    args = parse_args()
    for path, what in ((args.config, 'config'), (args.checkpoint, 'checkpoint')):
        if not osp.isfile(path):
            raise SystemExit(f'{what} not found: {path}')
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    cfg.work_dir = args.work_dir or cfg.get('work_dir') or osp.join(
        'work_dirs', osp.splitext(osp.basename(args.config))[0])
    cfg.load_from = args.checkpoint
    if args.out:
        cfg.test_evaluator = [*(cfg.test_evaluator if isinstance(cfg.test_evaluator, list)
                                else [cfg.test_evaluator]),
                              dict(type='DumpResults', out_file_path=args.out)]
    launch(cfg, args.launcher)
    try:
        check_device(cfg)
    except ConfigError as e:
        raise SystemExit(f'error: {e}')
    runner = Runner.from_cfg(cfg)
    # The weights go to the model inside a DDP wrapper or a test-time-augmentation model
    # (mmengine's loader unwraps both the same way).
    model = runner.model
    while is_model_wrapper(model) or isinstance(model, BaseTTAModel):
        model = model.module
    try:
        check_model_checkpoint(args.checkpoint, model)
    except CheckpointMismatchError as e:
        raise SystemExit(f'error: {e}')
    metrics = runner.test()
    print({k: round(v, 4) if isinstance(v, float) else v for k, v in metrics.items()})
    if not metrics:
        raise SystemExit(f'error: the test of {args.checkpoint} reported no metric (see '
                         "the evaluator's messages above); the run is not a result.")


if __name__ == '__main__':
    main()
