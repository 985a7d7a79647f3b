"""The benchmark's plan: the steps (commands) of every row and seed, in order.

For each pre-training config (a row) and each seed: pre-train, extract the teacher's
backbone, fine-tune and test every transfer task of the preset, run the k-NN evaluation
and measure the mechanisms. A row may instead start from a ViT checkpoint to convert
(the supervised row) or from random weights (the floor, which loads nothing). Each step
knows how to tell that it is done, so a broken benchmark continues where it stopped.
"""
import functools
import glob
import json
import os
import os.path as osp
import sys
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Sequence, Tuple

from .presets import OPTIONAL_TASKS, PRESETS, SUPERVISED, TASKS, TRANSFER_TASKS
from .results import RANDOM_INIT

# The repository: configs and tools are addressed from it (the package is installed
# in editable mode, beside them).
ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))


@dataclass
class PlanOptions:
    """What the command line chooses about a plan."""
    seeds: List[int] = field(default_factory=lambda: [0])
    only: List[str] = field(default_factory=lambda: list(TASKS + OPTIONAL_TASKS))
    launcher: str = 'local'  # 'local' or 'slurm'
    partition: Optional[str] = None
    dry_run: bool = False
    amp: Optional[str] = None  # tools/train.py --amp of every training: 'fp16' or 'bf16'



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


def has_test_metrics(test_dir: str) -> bool:
    """Whether tools/test.py wrote metrics to ``test_dir`` (a run whose evaluator
    reported nothing leaves a JSON of its timings only)."""
    for path in sorted(glob.glob(osp.join(test_dir, '*', '*.json')), reverse=True):
        try:
            with open(path) as f:
                keys = set(json.load(f)) - {'time', 'data_time'}
        except (OSError, ValueError, TypeError):
            continue
        if keys:
            return True
    return False


def cfg_options(options: List[str]) -> List[str]:
    """``--cfg-options`` and ``options``, or nothing when there are none (argparse
    refuses the flag without a value)."""
    return ['--cfg-options', *options] if options else []


def write_json(path: str, value: dict) -> None:
    os.makedirs(osp.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump(value, f, indent=2)


def row_name(config: str) -> str:
    return osp.splitext(osp.basename(config))[0]


class Plan:
    """The steps of the benchmark, in order."""

    def __init__(self, args: PlanOptions, preset: dict, work_dir: str) -> None:
        self.args, self.preset, self.work_dir = args, preset, work_dir
        self.steps: List[Step] = []
        self.rows: List[str] = []

    def tool(self, script: str, *args) -> List[str]:
        return [sys.executable, osp.join(ROOT, script), *map(str, args)]

    def config(self, config: str) -> str:
        return osp.join(ROOT, config)

    def train(self, config: str, work_dir: str, options: List[str], job: str) -> List[str]:
        amp = ['--amp', self.args.amp] if self.args.amp else []
        if self.args.launcher == 'slurm':
            return ['bash', osp.join(ROOT, 'tools/slurm_train.sh'), self.args.partition, job,
                    self.config(config), work_dir, *amp, *cfg_options(options)]
        return self.tool('tools/train.py', self.config(config), '--work-dir', work_dir,
                         *amp, *cfg_options(options))

    def test(self, config: str, checkpoint: str, work_dir: str, options: List[str],
             job: str) -> List[str]:
        if self.args.launcher == 'slurm':
            return ['bash', osp.join(ROOT, 'tools/slurm_test.sh'), self.args.partition, job,
                    self.config(config), checkpoint, '--work-dir', work_dir,
                    *cfg_options(options)]
        return self.tool('tools/test.py', self.config(config), checkpoint, '--work-dir',
                         work_dir, *cfg_options(options))

    def distributed_tool(self, script: str, job: str, *args) -> List[str]:
        """A tool that shares its work out with --launcher (k-NN): one task per GPU
        through Slurm, one process here."""
        if self.args.launcher == 'slurm':
            return ['bash', osp.join(ROOT, 'tools/slurm_launch.sh'), self.args.partition,
                    job, script, *map(str, args)]
        return self.tool(script, *args)

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
                     lambda d=test_dir: has_test_metrics(d),
                     osp.join(logs, f'{task}_test.log'))
        if 'knn' in self.args.only:
            knn_dir = osp.join(seed_dir, 'knn')
            extra = ['--pretrained', backbone] if pretrained else []
            self.add(row, 'knn', self.distributed_tool(
                'tools/analysis_tools/knn_eval.py', f'{name}-knn',
                self.config(p['linear'][pick]), '--work-dir', knn_dir, '--seed', seed,
                *extra, *cfg_options(p['linear_options'])),
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


def preset_with_options(name: str, extra_options: Optional[Dict[str, List[str]]] = None
                        ) -> dict:
    """The preset ``name`` with ``extra_options`` (per option group, e.g. ``'det'``)
    appended to its own ``--cfg-options``."""
    preset = dict(PRESETS[name])
    for group, options in (extra_options or {}).items():
        preset[f'{group}_options'] = preset[f'{group}_options'] + list(options)
    return preset


def make_plan(options: PlanOptions, preset: dict, work_dir: str,
              pretrain_configs: Sequence[str] = (), supervised: Optional[str] = None,
              random_init: bool = True) -> Plan:
    """The plan of a preset: a row per pre-training config (default: the preset's), the
    supervised row from ``supervised`` (a checkpoint), the random-initialisation floor."""
    plan = Plan(options, preset, work_dir)
    for config in pretrain_configs or preset['pretrain']:
        plan.add_row(row_name(config), config)
    if supervised:
        plan.add_row(SUPERVISED, None, checkpoint=osp.abspath(supervised))
    if random_init:
        plan.add_row(RANDOM_INIT, None)
    return plan
