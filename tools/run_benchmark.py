#!/usr/bin/env python
"""Run the transfer benchmark end to end and print its table.

For each pre-training config: pre-train, extract the teacher's backbone, fine-tune and
test Mask R-CNN on COCO, SETR on Cityscapes and UperNet on ADE20K, train and test the
linear classifier and run the k-NN evaluation; a random-initialisation row is the floor.
--supervised CHECKPOINT adds a row for a supervised ImageNet ViT (a timm DeiT state
dict: converted, then transferred exactly as the pre-trained rows); --cascade adds
Cascade Mask R-CNN on COCO. Steps already done are skipped, so a broken run continues
where it stopped. The table (markdown, CSV) and a bar chart are written to
WORK_DIR/results.*.

With no arguments it runs the miniature benchmark: the toy configs on the built-in toy
data (written to data/toy/ first), on CPU, in about 20-25 minutes on 2 cores.

Examples:
    python tools/run_benchmark.py                       # the miniature benchmark
    python tools/run_benchmark.py --preset full --launcher slurm --partition gpu
    python tools/run_benchmark.py --preset full configs/pretrain/mst_vit-small-p16_16xb64-coslr-300e_in1k.py
    python tools/run_benchmark.py --only det seg         # some tasks only
    python tools/run_benchmark.py --preset full --supervised deit_small_patch16_224.pth \
        --cascade --launcher slurm --partition gpu       # + supervised row, + Cascade
On a cluster (--launcher slurm) each training and test goes through
tools/slurm_train.sh / tools/slurm_test.sh (GPUS, GPUS_PER_NODE, ... as there).
"""
import argparse
import glob
import os
import os.path as osp
import subprocess
import sys
import time
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

import mst_mm  # noqa: E402,F401  (quiet pkg_resources warnings of config parsing)

PRESETS = {
    'mini': dict(
        pretrain=['configs/pretrain/mst_vit-toy-p8_1xb32-20e_toy.py',
                  'configs/pretrain/dino_vit-toy-p8_1xb32-20e_toy.py',
                  'configs/pretrain/mst-randommask_vit-toy-p8_1xb32-20e_toy.py'],
        pretrain_options=['train_cfg.max_epochs=10', 'train_dataloader.num_workers=1'],
        det=('configs/det/mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py',
             'configs/det/mask-rcnn_vit-toy-p8-rand-init_fpn_1xb4-8e_toy-coco.py'),
        det_options=['train_cfg.max_epochs=2', 'train_dataloader.dataset.indices=128',
                     'train_dataloader.num_workers=1', 'test_dataloader.num_workers=1'],
        seg=('configs/seg/setr-pup_vit-toy-p8-mst-toy_1xb4-1k_toy-cityscapes.py',
             'configs/seg/setr-pup_vit-toy-p8-rand-init_1xb4-1k_toy-cityscapes.py'),
        seg_options=['train_cfg.max_iters=60', 'train_cfg.val_interval=60',
                     'default_hooks.checkpoint.interval=60', 'train_dataloader.num_workers=1',
                     'test_dataloader.num_workers=1'],
        ade=('configs/seg/upernet_vit-toy-p8-mst-toy_1xb4-1k_toy-ade20k.py',
             'configs/seg/upernet_vit-toy-p8-rand-init_1xb4-1k_toy-ade20k.py'),
        ade_options=['train_cfg.max_iters=60', 'train_cfg.val_interval=60',
                     'default_hooks.checkpoint.interval=60', 'train_dataloader.num_workers=1',
                     'test_dataloader.num_workers=1'],
        cascade=('configs/det/cascade-mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py',
                 'configs/det/cascade-mask-rcnn_vit-toy-p8-rand-init_fpn_1xb4-8e_toy-coco.py'),
        cascade_options=['train_cfg.max_epochs=2', 'train_dataloader.dataset.indices=128',
                         'train_dataloader.num_workers=1', 'test_dataloader.num_workers=1'],
        linear=('configs/linear/vit-toy-p8-mst-toy_1xb32-linear-coslr-20e_toy.py',
                'configs/linear/vit-toy-p8-rand-init_1xb32-linear-coslr-20e_toy.py'),
        linear_options=['train_dataloader.num_workers=1', 'val_dataloader.num_workers=1'],
        arch=['--arch', '96x4', '--patch-size', '8'],
        toy_data='data/toy',
        # seconds per step, for the first ETA (then measured)
        durations=dict(pretrain=45, extract=5, det=70, det_test=25, seg=50, seg_test=25,
                       linear=25, linear_test=10, knn=15, ade=50, ade_test=25, cascade=120,
                       cascade_test=40)),
    'full': dict(
        pretrain=['configs/pretrain/mst_vit-small-p16_16xb64-coslr-100e_in1k.py',
                  'configs/pretrain/dino_vit-small-p16_16xb64-coslr-100e_in1k.py',
                  'configs/pretrain/mst-randommask_vit-small-p16_16xb64-coslr-100e_in1k.py'],
        pretrain_options=[],
        det=('configs/det/mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py',
             'configs/det/mask-rcnn_vit-small-p16-rand-init_fpn_8xb2-1x_coco.py'),
        det_options=[],
        seg=('configs/seg/setr-pup_vit-small-p16-mst-100e_8xb1-80k_cityscapes-768x768.py',
             'configs/seg/setr-pup_vit-small-p16-rand-init_8xb1-80k_cityscapes-768x768.py'),
        seg_options=[],
        ade=('configs/seg/upernet_vit-small-p16-mst-100e_8xb2-160k_ade20k-512x512.py',
             'configs/seg/upernet_vit-small-p16-rand-init_8xb2-160k_ade20k-512x512.py'),
        ade_options=[],
        cascade=('configs/det/cascade-mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py',
                 'configs/det/cascade-mask-rcnn_vit-small-p16-rand-init_fpn_8xb2-1x_coco.py'),
        cascade_options=[],
        linear=('configs/linear/vit-small-p16-mst-300e_8xb128-linear-coslr-100e_in1k.py',
                'configs/linear/vit-small-p16-mst-300e_8xb128-linear-coslr-100e_in1k.py'),
        linear_options=[],
        arch=['--arch', 'deit-small'],
        toy_data=None,
        durations=dict(pretrain=3 * 86400, extract=60, det=86400, det_test=3600,
                       seg=86400, seg_test=3600, linear=86400, linear_test=1800,
                       knn=3600, ade=2 * 86400, ade_test=3600, cascade=86400,
                       cascade_test=3600)),
}
TASKS = ('det', 'seg', 'ade', 'linear', 'knn')
OPTIONAL_TASKS = ('cascade', )  # run when asked for (--cascade or --only)
TRANSFER_TASKS = ('det', 'cascade', 'seg', 'ade', 'linear')  # fine-tuned, then tested
RANDOM_INIT = 'random-init'
SUPERVISED = 'supervised'


@dataclass
class Step:
    row: str
    kind: str
    command: List[str]
    done: Callable[[], bool]
    log: str
    env: Dict[str, str] = field(default_factory=dict)


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('pretrain_configs', nargs='*',
                        help="pre-training configs, a row each (default: the preset's)")
    parser.add_argument('--preset', choices=sorted(PRESETS), default='mini',
                        help='mini: toy configs and data on CPU (default); full: ViT-S/16')
    parser.add_argument('--work-dir', help='default: work_dirs/benchmark_<preset>')
    parser.add_argument('--only', nargs='+', choices=TASKS + OPTIONAL_TASKS,
                        default=list(TASKS),
                        help=f'transfer tasks to run (default: {" ".join(TASKS)})')
    parser.add_argument('--cascade', action='store_true',
                        help='also fine-tune and test Cascade Mask R-CNN on COCO')
    parser.add_argument('--supervised', metavar='CHECKPOINT',
                        help='add a row for a supervised ImageNet ViT of the preset\'s size '
                        '(a timm DeiT state dict, e.g. deit_small_patch16_224 for '
                        '--preset full): converted by extract_backbone.py, then transferred '
                        'as the pre-trained rows')
    parser.add_argument('--no-random-init', action='store_true',
                        help='leave out the random-initialisation row')
    parser.add_argument('--launcher', choices=['local', 'slurm'], default='local',
                        help='run the trainings here, or through tools/slurm_*.sh')
    parser.add_argument('--partition', help='Slurm partition (with --launcher slurm)')
    for task in ('pretrain', 'det', 'seg', 'linear', 'ade', 'cascade'):
        parser.add_argument(f'--{task}-options', nargs='+', default=[], metavar='KEY=VALUE',
                            help=f'extra --cfg-options of every {task} run and its test')
    parser.add_argument('--dry-run', action='store_true', help='print the steps only')
    args = parser.parse_args()
    if args.launcher == 'slurm' and not args.partition:
        parser.error('--launcher slurm needs --partition')
    if args.cascade and 'cascade' not in args.only:
        args.only.append('cascade')
    if args.supervised and not osp.isfile(args.supervised):
        parser.error(f'--supervised: no such checkpoint {args.supervised}')
    return args


def last_epoch_checkpoint(work_dir: str, config: str, options: List[str]) -> str:
    """The checkpoint a finished training leaves: epoch_N.pth or iter_N.pth."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict(dict(o.split('=', 1) for o in options if '=' in o))
    loop = cfg.train_cfg
    if loop.get('max_iters') and not loop.get('max_epochs'):
        return osp.join(work_dir, f'iter_{int(loop.max_iters)}.pth')
    return osp.join(work_dir, f'epoch_{int(loop.max_epochs)}.pth')


class Plan:
    """The steps of the benchmark, in order."""

    def __init__(self, args, preset: dict, work_dir: str) -> None:
        self.args, self.preset, self.work_dir = args, preset, work_dir
        self.steps: List[Step] = []
        self.rows: List[str] = []

    def tool(self, script: str, *args) -> List[str]:
        return [sys.executable, osp.join(ROOT, script), *map(str, args)]

    def train(self, config: str, work_dir: str, options: List[str], job: str) -> List[str]:
        if self.args.launcher == 'slurm':
            return ['bash', osp.join(ROOT, 'tools/slurm_train.sh'), self.args.partition, job,
                    config, work_dir, '--resume', '--cfg-options', *options]
        return self.tool('tools/train.py', config, '--work-dir', work_dir, '--resume',
                         '--cfg-options', *options)

    def test(self, config: str, checkpoint: str, work_dir: str, options: List[str],
             job: str) -> List[str]:
        if self.args.launcher == 'slurm':
            return ['bash', osp.join(ROOT, 'tools/slurm_test.sh'), self.args.partition, job,
                    config, checkpoint, '--work-dir', work_dir, '--cfg-options', *options]
        return self.tool('tools/test.py', config, checkpoint, '--work-dir', work_dir,
                         '--cfg-options', *options)

    def add(self, row, kind, command, done, log_name):
        self.steps.append(Step(row, kind, command, done,
                               osp.join(self.work_dir, row, 'logs', log_name + '.log')))

    def add_row(self, row: str, pretrain_config: Optional[str],
                checkpoint: Optional[str] = None) -> None:
        """A row from a pre-training config, from a ViT checkpoint to convert
        (``checkpoint``, the supervised row), or from random weights (neither)."""
        self.rows.append(row)
        row_dir = osp.join(self.work_dir, row)
        backbone = osp.join(row_dir, 'backbone.pth')
        p = self.preset
        if pretrain_config is not None:
            pre_dir = osp.join(row_dir, 'pretrain')
            final = last_epoch_checkpoint(pre_dir, pretrain_config, p['pretrain_options'])
            self.add(row, 'pretrain', self.train(pretrain_config, pre_dir,
                                                 p['pretrain_options'], f'{row}-pretrain'),
                     lambda f=final: osp.exists(f), 'pretrain')
            self.add(row, 'extract', self.tool('tools/model_converters/extract_backbone.py',
                                               final, backbone, *p['arch']),
                     lambda: osp.exists(backbone), 'extract')
        elif checkpoint is not None:
            self.add(row, 'extract', self.tool('tools/model_converters/extract_backbone.py',
                                               checkpoint, backbone, *p['arch']),
                     lambda: osp.exists(backbone), 'extract')
        pretrained = pretrain_config is not None or checkpoint is not None
        init = [f'pretrained={backbone}'] if pretrained else []
        pick = 0 if pretrained else 1
        for task in TRANSFER_TASKS:
            if task not in self.args.only:
                continue
            config, options = p[task][pick], p[f'{task}_options']
            run_dir = osp.join(row_dir, task)
            final = last_epoch_checkpoint(run_dir, config, options)
            self.add(row, task, self.train(config, run_dir, init + options, f'{row}-{task}'),
                     lambda f=final: osp.exists(f), task)
            test_dir = osp.join(run_dir, 'test')
            self.add(row, f'{task}_test',
                     self.test(config, final, test_dir, options, f'{row}-{task}-test'),
                     lambda d=test_dir: bool(glob.glob(osp.join(d, '*', '*.json'))),
                     f'{task}_test')
        if 'knn' in self.args.only:
            knn_dir = osp.join(row_dir, 'knn')
            extra = ['--pretrained', backbone] if pretrained else []
            self.add(row, 'knn', self.tool('tools/analysis_tools/knn_eval.py', p['linear'][pick],
                                           '--work-dir', knn_dir, *extra),
                     lambda: osp.exists(osp.join(knn_dir, 'knn.json')), 'knn')


def row_name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


def run_steps(plan: Plan) -> None:
    durations = dict(plan.preset['durations'])
    measured: Dict[str, List[float]] = {}
    todo = [s for s in plan.steps if not s.done()]
    print(f'{len(plan.steps)} steps, {len(plan.steps) - len(todo)} already done; '
          f'work dir {plan.work_dir}', flush=True)
    start = time.time()
    for i, step in enumerate(todo, 1):
        remaining = sum(sum(measured.get(s.kind, [durations[s.kind]])) /
                        len(measured.get(s.kind, [0])) for s in todo[i - 1:])
        print(f'[{i}/{len(todo)}] {step.row}: {step.kind} (elapsed {time.time() - start:.0f} s,'
              f' eta {remaining:.0f} s)', flush=True)
        if plan.args.dry_run:
            print('    ' + ' '.join(step.command))
            continue
        os.makedirs(osp.dirname(step.log), exist_ok=True)
        began = time.time()
        with open(step.log, 'w') as log:
            result = subprocess.run(step.command, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=ROOT, env={**os.environ, **step.env})
        measured.setdefault(step.kind, []).append(time.time() - began)
        if result.returncode != 0 or not step.done():
            with open(step.log) as log:
                tail = log.read()[-3000:]
            sys.exit(f'{tail}\n\nstep failed: {step.row} {step.kind} (log: {step.log}).\n'
                     'Fix the cause and run the same command again: finished steps '
                     'are skipped.')
    print(f'all steps done in {time.time() - start:.0f} s', flush=True)


def main():
    args = parse_args()
    preset = dict(PRESETS[args.preset])
    for task in ('pretrain', 'det', 'seg', 'linear', 'ade', 'cascade'):
        preset[f'{task}_options'] = preset[f'{task}_options'] + getattr(args, f'{task}_options')
    work_dir = osp.abspath(args.work_dir or osp.join(ROOT, 'work_dirs',
                                                       f'benchmark_{args.preset}'))
    if preset['toy_data']:
        from importlib.util import module_from_spec, spec_from_file_location
        spec = spec_from_file_location(
            'make_toy_data', osp.join(ROOT, 'tools/dataset_converters/make_toy_data.py'))
        module = module_from_spec(spec)
        spec.loader.exec_module(module)
        module.make_toy_data(osp.join(ROOT, preset['toy_data']))
    plan = Plan(args, preset, work_dir)
    for config in args.pretrain_configs or preset['pretrain']:
        plan.add_row(row_name(config), config)
    if args.supervised:
        plan.add_row(SUPERVISED, None, checkpoint=osp.abspath(args.supervised))
    if not args.no_random_init:
        plan.add_row(RANDOM_INIT, None)
    run_steps(plan)
    if args.dry_run:
        return
    collect = [sys.executable, osp.join(ROOT, 'tools/analysis_tools/collect_results.py'),
               *[osp.join(work_dir, r) for r in plan.rows], '--out',
               osp.join(work_dir, 'results')]
    subprocess.run(collect, check=True, cwd=ROOT)


if __name__ == '__main__':
    main()
