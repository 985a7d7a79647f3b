#!/usr/bin/env python
"""Measure the speed, memory and FLOP utilisation of pre-training configs, side by side.

For each CONFIG it builds the model and optimizer, feeds synthetic multi-crop batches of
the config's crop sizes and batch size (data loading excluded), and times the train
step, the configs in alternation so that all see the same machine. One table row per
config and mode: seconds per iteration, images per second, peak memory, FLOPs of one
step (counted with torch.utils.flop_counter: forward and backward of teacher, student,
head and decoder) and the model FLOP utilisation they give over --peak-tflops.

Modes: --precision fp32 fp16 bf16 (fp16 and bf16 through mmengine's AmpOptimWrapper,
as tools/train.py --amp [bf16] runs them; AMP needs a GPU), and --compile PRECISION
for the same with the transformer blocks under torch.compile, each compiled mode in a
child process stopped after --compile-timeout seconds. A mode that fails or times out
is reported in its row, with the reason.

Also, on request: --phases (time of each phase of the step, profiled), --scaling (how
the step cost grows with the number of local crops and the global crop size),
--check-sync (host-device synchronisations in one step, CUDA only), --pipeline (the
config's data pipeline on one core beside a torchvision/PIL composition of DINO's
augmentation, alternating, decoding excluded on both sides, with each pipeline's crop
resize compared with PIL's bicubic resize).

Examples:
    python tools/analysis_tools/benchmark_pretrain.py \\
        configs/pretrain/mst_vit-small-p16_16xb64-coslr-100e_in1k.py \\
        configs/pretrain/dino_vit-small-p16_16xb64-coslr-100e_in1k.py \\
        --batch-size 8 --phases --scaling --pipeline
    # a GPU: all precisions, FLOP utilisation, compiled bf16 last
    python tools/analysis_tools/benchmark_pretrain.py MST_CONFIG DINO_CONFIG \\
        --batch-size 64 --precision fp32 fp16 bf16 --compile bf16 --fused-adamw
"""
import argparse
import json
from typing import List

import torch
from mmengine.config import DictAction

from mst_mm.analysis.pipeline_speed import benchmark_pipeline, print_pipeline
from mst_mm.analysis.scaling import scaling_table
from mst_mm.analysis.speed import (H200_BF16_DENSE_TFLOPS, PHASES, PRECISIONS,
                                   prepare_scope, run_compiled_mode, run_mode)


def parse_args(argv=None):
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='+', help='pre-training configs to compare')
    parser.add_argument('--batch-size', type=int,
                        help="images per iteration (default: the config's batch size)")
    parser.add_argument('--iters', type=int, default=5,
                        help='timed iterations per mode (the median is reported)')
    parser.add_argument('--warmup', type=int, default=2, help='untimed iterations first')
    parser.add_argument('--device', default='auto', help="'cpu', 'cuda' or 'auto'")
    parser.add_argument('--threads', type=int,
                        help="torch's CPU threads for the model step (default: torch's)")
    parser.add_argument('--timer', choices=['wall', 'process'], default='wall',
                        help="'process' times the model step in CPU seconds of this "
                        "process, steadier than wall time on a CPU shared with other "
                        "work (use with --threads 1); default 'wall'")
    parser.add_argument('--precision', nargs='+', choices=PRECISIONS, default=['fp32'],
                        help='eager modes to time: fp32, and fp16 / bf16 autocast '
                        '(default: fp32)')
    parser.add_argument('--compile', nargs='*', choices=PRECISIONS, default=[],
                        metavar='PRECISION',
                        help='also time these precisions with the transformer blocks '
                        'under torch.compile, after the eager modes')
    parser.add_argument('--compile-timeout', type=float, default=300.,
                        help='seconds a compiled mode may take, compilation included '
                        '(default 300)')
    parser.add_argument('--fused-adamw', action='store_true',
                        help="AdamW's fused kernel (optimizer.fused=True)")
    parser.add_argument('--no-flops', dest='flops', action='store_false',
                        help='skip counting the FLOPs of a step (and the utilisation)')
    parser.add_argument('--peak-tflops', type=float, default=H200_BF16_DENSE_TFLOPS,
                        help='the peak the FLOP utilisation is relative to, in TFLOP/s '
                        f'(default {H200_BF16_DENSE_TFLOPS:g}: an H200\'s dense bf16 peak)')
    parser.add_argument('--phases', action='store_true',
                        help='also profile the time of each phase of the step')
    parser.add_argument('--scaling', action='store_true',
                        help='also time the first config with 0, 2, 4, 8 local crops '
                        'and global crops of 160, 224, 288 px')
    parser.add_argument('--scaling-iters', type=int, default=2,
                        help='timed iterations per scaling setting (default 2)')
    parser.add_argument('--check-sync', action='store_true',
                        help='count the host-device synchronisations of one step (CUDA)')
    parser.add_argument('--pipeline', action='store_true',
                        help='also measure the data pipeline on one core')
    parser.add_argument('--pipeline-only', action='store_true',
                        help='measure the data pipeline only (no model step)')
    parser.add_argument('--pipeline-images', type=int, default=100,
                        help='images per pipeline for that measurement (default 100)')
    parser.add_argument('--pipeline-rounds', type=int, default=5,
                        help='alternating rounds the pipeline images are split into')
    parser.add_argument('--json', help='also write every figure to this JSON file')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override keys of every config')
    args = parser.parse_args(argv)
    args.device = torch.device(('cuda' if torch.cuda.is_available() else 'cpu')
                               if args.device == 'auto' else args.device)
    if args.timer == 'process' and args.device.type != 'cpu':
        parser.error('--timer process measures CPU work; use it with --device cpu')
    if args.threads:
        torch.set_num_threads(args.threads)
    return args


def print_results(results: List[dict], args) -> None:
    batch = next((r['batch_size'] for r in results if 'batch_size' in r), args.batch_size)
    timer = ' (CPU seconds of the process)' if args.timer == 'process' else ''
    print(f'\nmedian of {args.iters} iterations{timer}, batch {batch} on {device_name(args)}; '
          f'MFU: FLOPs of a step (torch.utils.flop_counter) per second over '
          f'{args.peak_tflops:g} TFLOP/s; ratio: s/iter over the first config\'s in the '
          f'same mode' + ('; peak memory of the whole process on CPU'
                          if args.device.type == 'cpu' else ''))
    header = (f'{"config":<52} {"mode":<13} {"s/iter":>8} {"img/s":>8} {"peak MB":>8} '
              f'{"GFLOP/it":>9} {"MFU %":>6} {"ratio":>6}')
    print(header + '\n' + '-' * len(header))
    flops = {r['config']: r['flops_per_iter'] for r in results if 'flops_per_iter' in r}
    firsts = {}
    for r in results:
        mode = r['precision'] + (' compiled' if r['compiled'] else '')
        if r.get('error'):
            print(f'{r["config"]:<52} {mode:<13} {r["error"]}')
            continue
        first = firsts.setdefault(mode, r['seconds_per_iter'])
        step_flops = flops.get(r['config'])
        if step_flops is not None:
            r['mfu'] = step_flops / r['seconds_per_iter'] / (args.peak_tflops * 1e12)
        print(f'{r["config"]:<52} {mode:<13} {r["seconds_per_iter"]:>8.3f} '
              f'{r["images_per_second"]:>8.1f} {r["peak_memory_mb"]:>8.0f} ' +
              (f'{step_flops / 1e9:>9.1f} {100 * r["mfu"]:>6.1f} '
               if step_flops is not None else f'{"-":>9} {"-":>6} ') +
              f'{r["seconds_per_iter"] / first:>5.3f}x')
    if any('phases' in r for r in results):
        print('\nseconds per iteration by phase (profiled):')
        print(f'{"config":<52} {"mode":<13} ' + ' '.join(f'{p[:13]:>13}' for p in PHASES))
        for r in results:
            if 'phases' in r:
                mode = r['precision'] + (' compiled' if r['compiled'] else '')
                print(f'{r["config"]:<52} {mode:<13} ' +
                      ' '.join(f'{r["phases"][p]:>13.3f}' for p in PHASES))
    for r in results:
        if r.get('top_ops'):
            mode = r['precision'] + (' compiled' if r['compiled'] else '')
            print(f'\nthe operations that take the most {"GPU" if args.device.type == "cuda" else "CPU"} '
                  f'time in a step of {r["config"]} ({mode}), ms per iteration:')
            for op in r['top_ops']:
                print(f'  {op["ms_per_iter"]:9.2f}  x{op["calls_per_iter"]:<6.0f} {op["name"]}')
    for r in results:
        if 'syncs' in r:
            print(f'host-device synchronisations in one step of {r["config"]} '
                  f'({r["precision"]}): {r["syncs"]}' +
                  (f' at {", ".join(r["sync_places"][:8])}' if r['sync_places'] else ''))


def device_name(args) -> str:
    if args.device.type == 'cuda':
        return f'{torch.cuda.get_device_name(args.device)} (torch {torch.__version__})'
    return f'CPU, {torch.get_num_threads()} threads (torch {torch.__version__})'


def main(argv=None):
    args = parse_args(argv)
    prepare_scope()
    report = dict(device=device_name(args), peak_tflops=args.peak_tflops)
    if args.pipeline or args.pipeline_only:  # first, before the models take the memory
        report['pipeline'] = benchmark_pipeline(args.configs, args)
        print_pipeline(report['pipeline'], args)
    if args.pipeline_only:
        return write_report(report, args)
    results, flops = [], {}
    for precision in args.precision:
        results += run_mode(args, precision, compiled=False, known_flops=flops)
    for precision in args.compile:
        results += run_compiled_mode(args, precision)
    print_results(results, args)
    report['modes'] = results
    if args.scaling:
        report['scaling'] = scaling_table(args)
    write_report(report, args)


def write_report(report: dict, args) -> None:
    if args.json:
        with open(args.json, 'w') as f:
            json.dump(report, f, indent=1)


if __name__ == '__main__':
    main()
