#!/usr/bin/env python
"""Run the transfer benchmark end to end and print its table.

For each pre-training config (a row) and each seed: pre-train, extract the teacher's
backbone, fine-tune and test Mask R-CNN on COCO, SETR on Cityscapes and UperNet on
ADE20K, train and test the linear classifier (validated every epoch: best and last
top-1), run the k-NN evaluation and measure MST's mechanisms
(tools/analysis_tools/attention_metrics.py). --cascade adds Cascade Mask R-CNN on COCO;
--supervised CHECKPOINT adds a row for a supervised ImageNet ViT (a timm DeiT state
dict, converted, then transferred exactly as the pre-trained rows). A
random-initialisation row, which loads no checkpoint in any task, is the floor. Every
run is seeded (``randomness.seed``), so the same command gives the same table. Steps
already done are skipped, so a broken run continues where it stopped. The table
(markdown, CSV: mean and standard deviation over seeds) and a bar chart with error bars
are written to WORK_DIR/results.*.

Presets:
  mini   the smoke run (default): toy configs on the built-in toy data, CPU.
  small  toy configs on more toy data and longer runs (see PRESETS), CPU, about 30
         minutes per seed on 2 cores; run it with --seeds 0 1 2.
  full   ViT-S/16 on ImageNet, COCO and Cityscapes; each column is labelled with the
         pre-training epochs it used, and a paper figure of another length is not
         compared (the linear figures are of 300-epoch pre-training: pass the 300-epoch
         configs as rows for those).
The toy presets write their data to WORK_DIR/data/toy and run every step there.

Examples:
    python tools/run_benchmark.py                       # the miniature benchmark
    python tools/run_benchmark.py --preset small --seeds 0 1 2
    python tools/run_benchmark.py --preset full --launcher slurm --partition gpu
    python tools/run_benchmark.py --preset full --only linear knn \\
        configs/pretrain/mst_vit-small-p16_16xb64-coslr-300e_in1k.py \\
        configs/pretrain/dino_vit-small-p16_16xb64-coslr-300e_in1k.py
    python tools/run_benchmark.py --preset full --supervised deit_small_patch16_224.pth \\
        --cascade --launcher slurm --partition gpu       # + supervised row, + Cascade
    python tools/run_benchmark.py --dry-run              # print the plan only
On a cluster (--launcher slurm) each training and test goes through
tools/slurm_train.sh / tools/slurm_test.sh (GPUS, GPUS_PER_NODE, ... as there).
"""
import argparse
import functools
import glob
import json
import os
import os.path as osp
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

import mst_mm  # noqa: E402,F401  (quiet pkg_resources warnings of config parsing)
from mst_mm.benchmark import RANDOM_INIT  # noqa: E402

# Per task: the config of the pre-trained rows (given pretrained=BACKBONE) and the
# config of the random-initialisation row.
TOY_TASKS = dict(
    det=('configs/det/mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py',
         'configs/det/mask-rcnn_vit-toy-p8-rand-init_fpn_1xb4-8e_toy-coco.py'),
    cascade=('configs/det/cascade-mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py',
             'configs/det/cascade-mask-rcnn_vit-toy-p8-rand-init_fpn_1xb4-8e_toy-coco.py'),
    seg=('configs/seg/setr-pup_vit-toy-p8-mst-toy_1xb4-1k_toy-cityscapes.py',
         'configs/seg/setr-pup_vit-toy-p8-rand-init_1xb4-1k_toy-cityscapes.py'),
    ade=('configs/seg/upernet_vit-toy-p8-mst-toy_1xb4-1k_toy-ade20k.py',
         'configs/seg/upernet_vit-toy-p8-rand-init_1xb4-1k_toy-ade20k.py'),
    linear=('configs/linear/vit-toy-p8-mst-toy_1xb32-linear-coslr-20e_toy.py',
            'configs/linear/vit-toy-p8-rand-init_1xb32-linear-coslr-20e_toy.py'),
)
TOY_PRETRAIN = ['configs/pretrain/mst_vit-toy-p8_1xb32-20e_toy.py',
                'configs/pretrain/dino_vit-toy-p8_1xb32-20e_toy.py',
                'configs/pretrain/mst-randommask_vit-toy-p8_1xb32-20e_toy.py']
ONE_WORKER = ['train_dataloader.num_workers=1', 'val_dataloader.num_workers=1',
              'test_dataloader.num_workers=1']
# The mechanisms are measured on the pre-training images (the toy ImageNet val, whose
# shapes make_toy_data.py also writes as COCO instances), not on the multi-shape scenes.
TOY_ATTENTION = ['--ann-file', 'data/toy/imagenet/annotations/instances_val.json',
                 '--img-dir', 'data/toy/imagenet/val']

PRESETS = {
    'mini': dict(
        pretrain=TOY_PRETRAIN,
        pretrain_options=['train_cfg.max_epochs=10', 'train_dataloader.num_workers=1'],
        **TOY_TASKS,
        det_options=['train_cfg.max_epochs=2', 'train_dataloader.dataset.indices=128',
                     *ONE_WORKER],
        cascade_options=['train_cfg.max_epochs=2', 'train_dataloader.dataset.indices=128',
                         *ONE_WORKER],
        seg_options=['train_cfg.max_iters=60', 'train_cfg.val_interval=60',
                     'default_hooks.checkpoint.interval=60', *ONE_WORKER],
        ade_options=['train_cfg.max_iters=60', 'train_cfg.val_interval=60',
                     'default_hooks.checkpoint.interval=60', *ONE_WORKER],
        linear_options=ONE_WORKER,
        attention_options=TOY_ATTENTION,
        arch=['--arch', '96x4', '--patch-size', '8'],
        toy_data=dict(),  # make_toy_data's defaults
        reference=False,
        # seconds per step, for the first ETA (then measured)
        durations=dict(pretrain=45, extract=5, det=70, det_test=25, cascade=120,
                       cascade_test=40, seg=50, seg_test=25, ade=50, ade_test=25,
                       linear=25, linear_test=10, knn=15, attention=15)),
    'small': dict(
        pretrain=TOY_PRETRAIN,
        pretrain_options=['train_dataloader.num_workers=1'],
        **TOY_TASKS,
        # One epoch of the 1024 toy scenes (256 steps): enough for every row to leave
        # the floor (see the README's small preset).
        det_options=['train_cfg.max_epochs=1', *ONE_WORKER],
        cascade_options=['train_cfg.max_epochs=1', *ONE_WORKER],
        seg_options=['train_cfg.max_iters=600', 'train_cfg.val_interval=600',
                     'default_hooks.checkpoint.interval=600', *ONE_WORKER],
        ade_options=['train_cfg.max_iters=600', 'train_cfg.val_interval=600',
                     'default_hooks.checkpoint.interval=600', *ONE_WORKER],
        linear_options=ONE_WORKER,
        attention_options=TOY_ATTENTION,
        arch=['--arch', '96x4', '--patch-size', '8'],
        toy_data=dict(num_train=1024, num_val=256),
        reference=False,
        # seconds per step on one thread, for the first ETA (then measured)
        durations=dict(pretrain=300, extract=5, det=150, det_test=30, cascade=250,
                       cascade_test=50, seg=130, seg_test=30, ade=150, ade_test=30,
                       linear=90, linear_test=10, knn=25, attention=30)),
    'full': dict(
        pretrain=['configs/pretrain/mst_vit-small-p16_16xb64-coslr-100e_in1k.py',
                  'configs/pretrain/dino_vit-small-p16_16xb64-coslr-100e_in1k.py',
                  'configs/pretrain/mst-randommask_vit-small-p16_16xb64-coslr-100e_in1k.py'],
        pretrain_options=[],
        det=('configs/det/mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py',
             'configs/det/mask-rcnn_vit-small-p16-rand-init_fpn_8xb2-1x_coco.py'),
        det_options=[],
        cascade=('configs/det/cascade-mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py',
                 'configs/det/cascade-mask-rcnn_vit-small-p16-rand-init_fpn_8xb2-1x_coco.py'),
        cascade_options=[],
        seg=('configs/seg/setr-pup_vit-small-p16-mst-100e_8xb1-80k_cityscapes-768x768.py',
             'configs/seg/setr-pup_vit-small-p16-rand-init_8xb1-80k_cityscapes-768x768.py'),
        seg_options=[],
        ade=('configs/seg/upernet_vit-small-p16-mst-100e_8xb2-160k_ade20k-512x512.py',
             'configs/seg/upernet_vit-small-p16-rand-init_8xb2-160k_ade20k-512x512.py'),
        ade_options=[],
        linear=('configs/linear/vit-small-p16-mst-300e_8xb128-linear-coslr-100e_in1k.py',
                'configs/linear/vit-small-p16-rand-init_8xb128-linear-coslr-100e_in1k.py'),
        linear_options=[],
        attention_options=['--ann-file', 'data/coco/annotations/instances_val2017.json',
                           '--img-dir', 'data/coco/val2017', '--max-images', '500'],
        arch=['--arch', 'deit-small'],
        toy_data=None,
        reference=True,
        durations=dict(pretrain=3 * 86400, extract=60, det=86400, det_test=3600,
                       cascade=86400, cascade_test=3600, seg=86400, seg_test=3600,
                       ade=2 * 86400, ade_test=3600, linear=86400, linear_test=1800,
                       knn=3600, attention=600)),
}
TASKS = ('det', 'seg', 'ade', 'linear', 'knn', 'attention')
OPTIONAL_TASKS = ('cascade', )  # run when asked for (--cascade or --only)
TRANSFER_TASKS = ('det', 'cascade', 'seg', 'ade', 'linear')  # fine-tuned, then tested
OPTION_GROUPS = ('pretrain', ) + TRANSFER_TASKS
SUPERVISED = 'supervised'


@dataclass
class Step:
    row: str
    kind: str
    command: List[str]
    done: Callable[[], bool]
    log: str
    before: Optional[Callable[[], None]] = None  # run before the command
    env: Dict[str, str] = field(default_factory=dict)

    @property
    def chain(self) -> str:
        """The row's seed folder: the steps of one chain run in order, chains in parallel
        with --jobs."""
        return osp.dirname(osp.dirname(self.log))


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('pretrain_configs', nargs='*',
                        help="pre-training configs, a row each (default: the preset's)")
    parser.add_argument('--preset', choices=sorted(PRESETS), default='mini',
                        help='mini: 8-minute toy smoke run on CPU (default); small: toy '
                        'numbers that separate the rows; full: ViT-S/16')
    parser.add_argument('--seeds', nargs='+', type=int, default=[0],
                        help='run every row with each seed; the table shows mean and '
                        'standard deviation (default: 0)')
    parser.add_argument('--work-dir', help='default: work_dirs/benchmark_<preset>')
    parser.add_argument('--only', nargs='+', choices=TASKS + OPTIONAL_TASKS,
                        default=list(TASKS),
                        help=f'transfer tasks to run (default: {" ".join(TASKS)})')
    parser.add_argument('--cascade', action='store_true',
                        help='also fine-tune and test Cascade Mask R-CNN on COCO')
    parser.add_argument('--supervised', metavar='CHECKPOINT',
                        help="add a row for a supervised ImageNet ViT of the preset's size "
                        '(a timm DeiT state dict, e.g. deit_small_patch16_224 for '
                        '--preset full): converted by extract_backbone.py, then transferred '
                        'as the pre-trained rows')
    parser.add_argument('--no-random-init', action='store_true',
                        help='leave out the random-initialisation row')
    parser.add_argument('--launcher', choices=['local', 'slurm'], default='local',
                        help='run the trainings here, or through tools/slurm_*.sh')
    parser.add_argument('--partition', help='Slurm partition (with --launcher slurm)')
    for task in OPTION_GROUPS:
        parser.add_argument(f'--{task}-options', nargs='+', default=[], metavar='KEY=VALUE',
                            help=f'extra --cfg-options of every {task} run and its test')
    parser.add_argument('--jobs', type=int,
                        help='run this many (row, seed) chains at once, each on '
                        'cores / jobs threads (default: as many as the cores allow, at '
                        'most one per chain, for the toy presets; 1 otherwise)')
    parser.add_argument('--dry-run', action='store_true', help='print the steps only')
    args = parser.parse_args()
    if args.jobs is not None and args.jobs < 1:
        parser.error(f'--jobs must be at least 1, got {args.jobs}')
    if args.launcher == 'slurm' and not args.partition:
        parser.error('--launcher slurm needs --partition')
    if len(set(args.seeds)) != len(args.seeds) or min(args.seeds) < 0:
        parser.error(f'--seeds must be distinct non-negative integers, got {args.seeds}')
    if args.cascade and 'cascade' not in args.only:
        args.only.append('cascade')
    if args.supervised and not osp.isfile(args.supervised):
        parser.error(f'--supervised: no such checkpoint {args.supervised}')
    return args


@functools.lru_cache(maxsize=None)
def train_loop(config: str, options: Tuple[str, ...]) -> dict:
    """The ``train_cfg`` of a config with its --cfg-options (each config parsed once)."""
    from mmengine.config import Config
    cfg = Config.fromfile(osp.join(ROOT, config))
    cfg.merge_from_dict(dict(o.split('=', 1) for o in options if '=' in o))
    return dict(cfg.train_cfg)


def max_epochs(config: str, options: List[str]) -> Optional[int]:
    """The epochs a config trains for; None for an iteration-based one."""
    loop = train_loop(config, tuple(options))
    if loop.get('max_iters') and not loop.get('max_epochs'):
        return None
    return int(loop['max_epochs'])


def last_checkpoint(work_dir: str, config: str, options: List[str]) -> str:
    """The checkpoint a finished training leaves: epoch_N.pth or iter_N.pth."""
    epochs = max_epochs(config, options)
    if epochs is None:
        iters = train_loop(config, tuple(options))['max_iters']
        return osp.join(work_dir, f'iter_{int(iters)}.pth')
    return osp.join(work_dir, f'epoch_{epochs}.pth')


class Plan:
    """The steps of the benchmark, in order."""

    def __init__(self, args, preset: dict, work_dir: str) -> None:
        self.args, self.preset, self.work_dir = args, preset, work_dir
        self.steps: List[Step] = []
        self.rows: List[str] = []

    def tool(self, script: str, *args) -> List[str]:
        return [sys.executable, osp.join(ROOT, script), *map(str, args)]

    def config(self, config: str) -> str:
        return osp.join(ROOT, config)

    def train(self, config: str, work_dir: str, options: List[str], job: str) -> List[str]:
        if self.args.launcher == 'slurm':
            return ['bash', osp.join(ROOT, 'tools/slurm_train.sh'), self.args.partition, job,
                    self.config(config), work_dir, '--cfg-options', *options]
        return self.tool('tools/train.py', self.config(config), '--work-dir', work_dir,
                         '--cfg-options', *options)

    def test(self, config: str, checkpoint: str, work_dir: str, options: List[str],
             job: str) -> List[str]:
        if self.args.launcher == 'slurm':
            return ['bash', osp.join(ROOT, 'tools/slurm_test.sh'), self.args.partition, job,
                    self.config(config), checkpoint, '--work-dir', work_dir,
                    '--cfg-options', *options]
        return self.tool('tools/test.py', self.config(config), checkpoint, '--work-dir',
                         work_dir, '--cfg-options', *options)

    def add(self, row, kind, command, done, log, before=None):
        self.steps.append(Step(row, kind, command, done, log, before))

    def add_row(self, row: str, pretrain_config: Optional[str],
                checkpoint: Optional[str] = None) -> None:
        """A row from a pre-training config, from a ViT checkpoint to convert
        (``checkpoint``: the supervised row), or from random weights (neither)."""
        self.rows.append(row)
        for seed in self.args.seeds:
            self.add_seed(row, pretrain_config, seed, checkpoint)

    def add_seed(self, row: str, pretrain_config: Optional[str], seed: int,
                 checkpoint: Optional[str] = None) -> None:
        p = self.preset
        seed_dir = osp.join(self.work_dir, row, f'seed_{seed}')
        logs = osp.join(seed_dir, 'logs')
        seeded = [f'randomness.seed={seed}']
        backbone = osp.join(seed_dir, 'backbone.pth')
        name = f'{row}-s{seed}'
        pretrained_checkpoint = None
        if pretrain_config is not None:
            pre_dir = osp.join(seed_dir, 'pretrain')
            options = p['pretrain_options'] + seeded
            final = pretrained_checkpoint = last_checkpoint(pre_dir, pretrain_config, options)
            info = dict(config=pretrain_config, seed=seed,
                        max_epochs=max_epochs(pretrain_config, options))
            self.add(row, 'pretrain',
                     self.train(pretrain_config, pre_dir, options, f'{name}-pretrain'),
                     lambda f=final: osp.exists(f), osp.join(logs, 'pretrain.log'),
                     before=lambda d=pre_dir, i=info: write_json(
                         osp.join(d, 'benchmark.json'), i))
            self.add(row, 'extract', self.tool('tools/model_converters/extract_backbone.py',
                                               final, backbone, *p['arch']),
                     lambda b=backbone: osp.exists(b), osp.join(logs, 'extract.log'))
        elif checkpoint is not None:
            self.add(row, 'extract', self.tool('tools/model_converters/extract_backbone.py',
                                               checkpoint, backbone, *p['arch']),
                     lambda b=backbone: osp.exists(b), osp.join(logs, 'extract.log'))
        # The random-init row loads nothing: its configs initialise the ViT themselves.
        pretrained = pretrain_config is not None or checkpoint is not None
        init = [f'pretrained={backbone}'] if pretrained else []
        pick = 0 if pretrained else 1
        for task in TRANSFER_TASKS:
            if task not in self.args.only:
                continue
            config, options = p[task][pick], p[f'{task}_options'] + seeded
            run_dir = osp.join(seed_dir, task)
            final = last_checkpoint(run_dir, config, options)
            self.add(row, task, self.train(config, run_dir, init + options,
                                           f'{name}-{task}'),
                     lambda f=final: osp.exists(f), osp.join(logs, f'{task}.log'))
            test_dir = osp.join(run_dir, 'test')
            self.add(row, f'{task}_test',
                     self.test(config, final, test_dir, options, f'{name}-{task}-test'),
                     lambda d=test_dir: bool(glob.glob(osp.join(d, '*', '*.json'))),
                     osp.join(logs, f'{task}_test.log'))
        if 'knn' in self.args.only:
            knn_dir = osp.join(seed_dir, 'knn')
            extra = ['--pretrained', backbone] if pretrained else []
            self.add(row, 'knn', self.tool('tools/analysis_tools/knn_eval.py',
                                           self.config(p['linear'][pick]), '--work-dir',
                                           knn_dir, '--seed', seed, *extra,
                                           '--cfg-options', *p['linear_options']),
                     lambda d=knn_dir: osp.exists(osp.join(d, 'knn.json')),
                     osp.join(logs, 'knn.log'))
        if 'attention' in self.args.only:
            # The mechanism figures: the teacher's attention on the objects of a COCO-format
            # set, the masks of each strategy, the decoder's restoring.
            out = osp.join(seed_dir, 'attention', 'attention_metrics.json')
            if pretrain_config is not None:
                measured = [self.config(pretrain_config), pretrained_checkpoint]
            elif pretrained:  # the supervised ViT in the preset's first pre-training model
                measured = [self.config(p['pretrain'][0]), backbone]
            else:  # the initialisation of the preset's first row
                measured = [self.config(p['pretrain'][0]), '--random-init']
            self.add(row, 'attention', self.tool('tools/analysis_tools/attention_metrics.py',
                                                 *measured, '--seed', seed, '--out', out,
                                                 *p['attention_options']),
                     lambda o=out: osp.exists(o), osp.join(logs, 'attention.log'))


def write_json(path: str, value: dict) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(value, f, indent=2)


def row_name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


def default_jobs(plan: Plan, toy: bool) -> int:
    """Toy presets on this machine: one chain per core (at most one per chain)."""
    if not toy or plan.args.launcher != 'local':
        return 1
    return max(1, min(len(os.sched_getaffinity(0)), len({s.chain for s in plan.steps})))


def run_steps(plan: Plan, cwd: str, jobs: int = 1) -> None:
    """Run the steps not done yet: the chains of (row, seed) ``jobs`` at a time, the
    steps of a chain in order. After a failed step no new step starts; the command
    exits with the failed step's log once the running ones have finished."""
    durations = dict(plan.preset['durations'])
    measured: Dict[str, List[float]] = {}
    todo = [s for s in plan.steps if plan.args.dry_run or not s.done()]
    chains: Dict[str, List[Step]] = {}
    for step in todo:
        chains.setdefault(step.chain, []).append(step)
    jobs = 1 if plan.args.dry_run else max(1, min(jobs, len(chains)))
    env = {}
    if jobs > 1:  # share the cores out: each training on cores / jobs threads
        threads = str(max(1, len(os.sched_getaffinity(0)) // jobs))
        env = dict(OMP_NUM_THREADS=threads, MKL_NUM_THREADS=threads)
    print(f'{len(plan.steps)} steps, {len(plan.steps) - len(todo)} already done; '
          f'work dir {plan.work_dir}' +
          (f'; {jobs} chains at once, {env["OMP_NUM_THREADS"]} thread(s) each'
           if jobs > 1 else ''), flush=True)
    start = time.time()
    lock = threading.Lock()
    not_started = list(todo)
    failed: List[Step] = []

    def expected(kind: str) -> float:
        times = measured.get(kind) or [durations[kind]]
        return sum(times) / len(times)

    def run(step: Step) -> bool:
        with lock:
            if failed:
                return False
            not_started.remove(step)
            number = len(todo) - len(not_started)
            remaining = (expected(step.kind) +
                         sum(expected(s.kind) for s in not_started)) / jobs
            print(f'[{number}/{len(todo)}] {step.row} {osp.basename(step.chain)}: '
                  f'{step.kind} (elapsed {time.time() - start:.0f} s, eta {remaining:.0f} s)',
                  flush=True)
        if plan.args.dry_run:
            print('    ' + ' '.join(step.command))
            return True
        if step.before is not None:
            step.before()
        os.makedirs(osp.dirname(step.log), exist_ok=True)
        began = time.time()
        with open(step.log, 'w') as log:
            result = subprocess.run(step.command, stdout=log, stderr=subprocess.STDOUT,
                                    cwd=cwd, env={**os.environ, **env, **step.env})
        with lock:
            measured.setdefault(step.kind, []).append(time.time() - began)
            if result.returncode != 0 or not step.done():
                failed.append(step)
                return False
        return True

    def run_chain(steps: List[Step]) -> None:
        for step in steps:
            if not run(step):
                return

    with ThreadPoolExecutor(max_workers=jobs) as pool:
        for future in [pool.submit(run_chain, steps) for steps in chains.values()]:
            future.result()
    if failed:
        step = failed[0]
        with open(step.log) as log:
            tail = log.read()[-3000:]
        sys.exit(f'{tail}\n\nstep failed: {step.row} {osp.basename(step.chain)} '
                 f'{step.kind} (log: {step.log}).\nFix the cause and run the same command '
                 'again: finished steps are skipped.')
    print(f'all steps done in {time.time() - start:.0f} s', flush=True)


def write_toy_data(preset: dict, cwd: str) -> None:
    from importlib.util import module_from_spec, spec_from_file_location
    spec = spec_from_file_location(
        'make_toy_data', osp.join(ROOT, 'tools/dataset_converters/make_toy_data.py'))
    module = module_from_spec(spec)
    spec.loader.exec_module(module)
    module.make_toy_data(osp.join(cwd, 'data', 'toy'), **preset['toy_data'])


def main():
    args = parse_args()
    preset = dict(PRESETS[args.preset])
    for task in OPTION_GROUPS:
        preset[f'{task}_options'] = preset[f'{task}_options'] + getattr(args, f'{task}_options')
    work_dir = osp.abspath(args.work_dir or osp.join(ROOT, 'work_dirs',
                                                       f'benchmark_{args.preset}'))
    # Toy presets run in the work dir, where their data is (the configs read data/toy/).
    cwd = work_dir if preset['toy_data'] is not None else ROOT
    if preset['toy_data'] is not None and not args.dry_run:
        write_toy_data(preset, cwd)
    plan = Plan(args, preset, work_dir)
    for config in args.pretrain_configs or preset['pretrain']:
        plan.add_row(row_name(config), config)
    if args.supervised:
        plan.add_row(SUPERVISED, None, checkpoint=osp.abspath(args.supervised))
    if not args.no_random_init:
        plan.add_row(RANDOM_INIT, None)
    run_steps(plan, cwd, args.jobs or default_jobs(plan, preset['toy_data'] is not None))
    if args.dry_run:
        return
    collect = [sys.executable, osp.join(ROOT, 'tools/analysis_tools/collect_results.py'),
               *[osp.join(work_dir, r) for r in plan.rows], '--out',
               osp.join(work_dir, 'results')]
    if not preset['reference']:
        collect.append('--no-reference')
    subprocess.run(collect, check=True, cwd=ROOT)


if __name__ == '__main__':
    main()
