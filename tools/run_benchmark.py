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
         configs as rows for those). With --smoke: the same plan at real size on
         synthetic data, cut short (--smoke-iters, --smoke-images, --smoke-batch).
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
    python tools/run_benchmark.py --preset full --smoke --cascade \\
        configs/pretrain/mst_vit-small-p16_16xb64-coslr-100e_in1k.py   # real size, cut short
On a cluster (--launcher slurm) each training and test goes through
tools/slurm_train.sh / tools/slurm_test.sh (GPUS, GPUS_PER_NODE, ... as there).
"""
import argparse
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
sys.path.insert(0, ROOT)

import mst_mm  # noqa: E402,F401  (quiet pkg_resources warnings of config parsing)
from mst_mm.benchmark.plan import PlanOptions, make_plan, preset_with_options  # noqa: E402
from mst_mm.benchmark.presets import (OPTION_GROUPS, OPTIONAL_TASKS, PRESETS,  # noqa: E402
                                      TASKS)
from mst_mm.benchmark.results import collect_row, missing_cells  # noqa: E402
from mst_mm.benchmark.run import default_jobs, run_steps  # noqa: E402
from mst_mm.benchmark.smoke import SmokeSize, smoke_preset  # noqa: E402


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
    parser.add_argument('--amp', choices=['fp16', 'bf16'],
                        help='train every run in mixed precision (tools/train.py --amp; '
                        'needs a GPU, and the detectors take fp16 only)')
    for task in OPTION_GROUPS:
        parser.add_argument(f'--{task}-options', nargs='+', default=[], metavar='KEY=VALUE',
                            help=f'extra --cfg-options of every {task} run and its test')
    parser.add_argument('--jobs', type=int,
                        help='run this many (row, seed) chains at once, each on '
                        'cores / jobs threads (default: as many as the cores allow, at '
                        'most one per chain, for the toy presets; 1 otherwise)')
    parser.add_argument('--dry-run', action='store_true', help='print the steps only')
    smoke = parser.add_argument_group(
        'smoke run', 'with --preset full: the full plan at real size on synthetic data, '
        'cut short (see mst_mm/benchmark/smoke.py); it fails on a missing table cell and '
        'prints what each step cost')
    smoke.add_argument('--smoke', action='store_true',
                       help='write synthetic data of the real sizes and layouts to '
                       'WORK_DIR/data and run the plan on it, cut down as below')
    smoke.add_argument('--smoke-iters', type=int, default=SmokeSize.iters,
                       help=f'training iterations of each run (default {SmokeSize.iters})')
    smoke.add_argument('--smoke-images', type=int, default=SmokeSize.images,
                       help='validation, test, k-NN and mechanism images (default '
                       f'{SmokeSize.images})')
    smoke.add_argument('--smoke-batch', type=int, default=SmokeSize.batch,
                       help=f'training images per process (default {SmokeSize.batch})')
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
    if args.smoke and args.preset != 'full':
        parser.error('--smoke cuts the full preset down: use it with --preset full')
    try:
        args.smoke_size = SmokeSize(args.smoke_iters, args.smoke_images, args.smoke_batch)
    except ValueError as error:
        parser.error(str(error))
    return args


def main():
    args = parse_args()
    preset = preset_with_options(
        args.preset, {group: getattr(args, f'{group}_options') for group in OPTION_GROUPS})
    name = args.preset + ('_smoke' if args.smoke else '')
    work_dir = osp.abspath(args.work_dir or osp.join(ROOT, 'work_dirs', f'benchmark_{name}'))
    if args.smoke:
        preset = smoke_preset(preset, args.smoke_size)
    toy = preset['toy_data'] is not None
    # Toy presets and the smoke run in the work dir, where their data is (the configs
    # read data/).
    cwd = work_dir if toy or args.smoke else ROOT
    if toy and not args.dry_run:
        from mst_mm.datasets.toy import make_toy_data
        make_toy_data(osp.join(cwd, 'data', 'toy'), **preset['toy_data'])
    if args.smoke and not args.dry_run:
        from mst_mm.datasets.toy.full_size import make_full_size_data
        make_full_size_data(osp.join(cwd, 'data'), **preset['full_size_data'])
    options = PlanOptions(seeds=args.seeds, only=args.only, launcher=args.launcher,
                          partition=args.partition, dry_run=args.dry_run, amp=args.amp)
    plan = make_plan(options, preset, work_dir, args.pretrain_configs, args.supervised,
                     random_init=not args.no_random_init)
    run_steps(plan, cwd, args.jobs or default_jobs(plan, toy))
    if args.dry_run:
        return
    collect = [sys.executable, osp.join(ROOT, 'tools/analysis_tools/collect_results.py'),
               *[osp.join(work_dir, r) for r in plan.rows], '--out',
               osp.join(work_dir, 'results')]
    if not preset['reference']:
        collect.append('--no-reference')
    subprocess.run(collect, check=True, cwd=ROOT)
    if args.smoke:
        missing = missing_cells([collect_row(osp.join(work_dir, r)) for r in plan.rows],
                                args.only)
        if missing:
            sys.exit('smoke run: the table lacks ' + '; '.join(missing))
        print('smoke run: every step ran and every cell of the table holds a figure')


if __name__ == '__main__':
    main()
