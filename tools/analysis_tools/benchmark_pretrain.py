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
import os
import os.path as osp
import random
import resource
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmpretrain.registry import MODELS, TRANSFORMS

import mst_mm  # noqa: F401  (registers MST's modules)

PHASES = ('teacher_forward', 'masking', 'student_forward', 'decoder', 'backward',
          'optimizer_step')
PRECISIONS = ('fp32', 'fp16', 'bf16')
H200_BF16_DENSE_TFLOPS = 989.0


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
    parser.add_argument('--worker', choices=PRECISIONS, help=argparse.SUPPRESS)
    parser.add_argument('--worker-out', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.device = torch.device(('cuda' if torch.cuda.is_available() else 'cpu')
                               if args.device == 'auto' else args.device)
    if args.timer == 'process' and args.device.type != 'cpu':
        parser.error('--timer process measures CPU work; use it with --device cpu')
    if args.threads:
        torch.set_num_threads(args.threads)
    return args


# -- the model step ----------------------------------------------------------------

def crop_layout(cfg) -> List[Tuple[int, int]]:
    """(crop size, number of views) per view group of the config's MultiView."""
    for transform in cfg.train_dataloader.dataset.pipeline:
        if transform['type'] == 'MultiView':
            layout = []
            for views, group in zip(transform['num_views'], transform['transforms']):
                crop = next(t for t in group if 'ResizedCrop' in t['type'])
                layout.append((int(crop['scale']), int(views)))
            return layout
    raise ValueError(f'{cfg.filename}: no MultiView transform in its train pipeline')


def synthetic_batch(layout, batch_size: int, device: torch.device) -> dict:
    inputs = []
    for size, views in layout:
        inputs += [torch.randint(0, 256, (batch_size, 3, size, size), dtype=torch.uint8,
                                 device=device) for _ in range(views)]
    return dict(inputs=inputs, data_samples=None)


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


def allocated(device: torch.device) -> int:
    return torch.cuda.memory_allocated(device) if device.type == 'cuda' else 0


def train_iteration(model, optim_wrapper, batch) -> None:
    """One train step, as ``BaseModel.train_step``, with its phases labelled."""
    with optim_wrapper.optim_context(model):
        data = model.data_preprocessor(batch, True)
        losses = model(**data, mode='loss')
    loss, _ = model.parse_losses(losses)
    with torch.profiler.record_function('backward'):
        optim_wrapper.backward(loss)
    with torch.profiler.record_function('optimizer_step'):
        optim_wrapper.step()
        optim_wrapper.zero_grad()


def optim_wrapper_cfg(cfg, precision: str, fused_adamw: bool) -> dict:
    """The config's optimizer wrapper in ``precision``, as tools/train.py --amp sets it."""
    optim_cfg = cfg.optim_wrapper.copy()
    if fused_adamw:
        optim_cfg['optimizer'] = dict(optim_cfg['optimizer'], fused=True)
    if precision == 'fp16':
        optim_cfg.update(type='AmpOptimWrapper', loss_scale='dynamic')
    elif precision == 'bf16':  # bf16 has fp32's range: no loss scaling
        optim_cfg.update(type='AmpOptimWrapper', dtype='bfloat16',
                         loss_scale=dict(enabled=False))
    return optim_cfg


def compile_blocks(model) -> None:
    """torch.compile the transformer blocks of the student and the teacher.

    The patch embedding and the teacher's last block stay eager: MST reads and
    changes them with forward hooks (the [MASK] token, the [CLS] attention).
    """
    teacher = model.teacher.module['backbone']
    for vit in (model.backbone, teacher):
        for layer in vit.layers[:-1] if vit is teacher else vit.layers:
            layer.compile()


class Case:
    """One config in one mode: its model, optimizer, batch and measurements."""

    def __init__(self, config: str, args, precision: str, compiled: bool) -> None:
        self.config, self.name = config, osp.basename(config)
        self.precision, self.compiled = precision, compiled
        self.device, self.timer = args.device, args.timer
        self.times: List[float] = []
        cfg = Config.fromfile(config)
        cfg.merge_from_dict(args.cfg_options)
        self.cfg = cfg
        self.batch_size = args.batch_size or cfg.train_dataloader.batch_size
        self.layout = crop_layout(cfg)
        before = allocated(self.device)
        self.model = MODELS.build(cfg.model).to(self.device)
        self.model.init_weights()
        self.model.train()
        if compiled:
            compile_blocks(self.model)
        self.optim_wrapper = build_optim_wrapper(
            self.model, optim_wrapper_cfg(cfg, precision, args.fused_adamw))
        self.batch = synthetic_batch(self.layout, self.batch_size, self.device)
        self.step()  # creates the optimizer state
        sync(self.device)
        self.resident = allocated(self.device) - before

    def step(self, batch=None) -> None:
        train_iteration(self.model, self.optim_wrapper, batch or self.batch)

    def timed_step(self, batch=None) -> float:
        clock = time.process_time if self.timer == 'process' else time.perf_counter
        sync(self.device)
        start = clock()
        self.step(batch)
        sync(self.device)
        return clock() - start

    def release(self) -> None:
        for attr in ('model', 'optim_wrapper', 'batch'):
            setattr(self, attr, None)


def peak_memory_mb(case: Case, others_resident: int) -> float:
    """Peak memory of one step of ``case`` as if it ran alone (CUDA), or the peak
    resident memory of the whole process (CPU)."""
    if case.device.type != 'cuda':
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10
    torch.cuda.reset_peak_memory_stats(case.device)
    case.step()
    sync(case.device)
    return (torch.cuda.max_memory_allocated(case.device) - others_resident) / 2**20


def count_flops(step) -> float:
    """FLOPs of one call of ``step`` (a train step: forward and backward), as
    torch.utils.flop_counter counts them (matrix products, convolutions, attention)."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        step()
    return float(counter.get_total_flops())


def profile_phases(case: Case, iters: int = 2) -> Dict[str, float]:
    """Seconds per iteration of each labelled phase, from torch's profiler."""
    on_gpu = case.device.type == 'cuda'
    activities = [torch.profiler.ProfilerActivity.CPU]
    if on_gpu:
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        for _ in range(iters):
            case.step()
        sync(case.device)
    phases = {name: 0. for name in PHASES}
    for event in prof.key_averages():
        if event.key in phases:
            total = event.device_time_total if on_gpu else event.cpu_time_total
            phases[event.key] = total / iters / 1e6
    return phases


def count_syncs(case: Case) -> Tuple[int, List[str]]:
    """Host-device synchronisations in one step, and where they happen."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        torch.cuda.set_sync_debug_mode('warn')
        try:
            case.step()
        finally:
            torch.cuda.set_sync_debug_mode('default')
    found = [w for w in caught if 'synchroniz' in str(w.message)]
    places = sorted({f'{osp.relpath(w.filename)}:{w.lineno}' for w in found})
    return len(found), places


def error_text(error: BaseException) -> str:
    text = f'{type(error).__name__}: {error}'.strip().splitlines()[0]
    return text if len(text) <= 160 else text[:157] + '...'


def run_mode(args, precision: str, compiled: bool,
             known_flops: Optional[Dict[str, float]] = None) -> List[dict]:
    """Build, time (alternating) and measure every config in one mode; a config's
    FLOPs are counted once, in the first eager mode that runs it."""
    known_flops = {} if known_flops is None else known_flops
    mode = precision + (' compiled' if compiled else '')
    rows = [dict(config=osp.basename(c), precision=precision, compiled=compiled,
                 error=None) for c in args.configs]
    cases: Dict[int, Case] = {}
    for i, config in enumerate(args.configs):
        try:
            cases[i] = Case(config, args, precision, compiled)
        except Exception as error:  # reported in the table; the others go on
            rows[i]['error'] = error_text(error)
            print(f'[{mode}] {rows[i]["config"]}: {rows[i]["error"]}', flush=True)
    for r in range(args.warmup + args.iters if cases else 0):
        for i, case in cases.items():
            if rows[i]['error'] is None:
                try:
                    case.times.append(case.timed_step())
                except Exception as error:
                    rows[i]['error'] = error_text(error)
        print(f'[{mode}] round {r + 1}/{args.warmup + args.iters}: ' + ', '.join(
            f'{case.name} ' + ('failed' if rows[i]['error'] else f'{case.times[-1]:.3f} s')
            for i, case in cases.items()), flush=True)
    total_resident = sum(case.resident for case in cases.values())
    for i, case in cases.items():
        row = rows[i]
        try:
            if row['error'] is None:
                seconds = float(np.median(case.times[args.warmup:]))
                row.update(seconds_per_iter=seconds, batch_size=case.batch_size,
                           images_per_second=case.batch_size / seconds)
                row['peak_memory_mb'] = peak_memory_mb(case, total_resident - case.resident)
                if args.flops and not compiled and case.name not in known_flops:
                    known_flops[case.name] = row['flops_per_iter'] = count_flops(case.step)
                if args.phases:
                    row['phases'] = profile_phases(case)
                if args.check_sync and case.device.type == 'cuda':
                    row['syncs'], row['sync_places'] = count_syncs(case)
        except Exception as error:
            row['error'] = error_text(error)
        case.release()
    cases.clear()
    if args.device.type == 'cuda':
        torch.cuda.empty_cache()
    return rows


def run_compiled_mode(args, precision: str, argv: Sequence[str]) -> List[dict]:
    """A compiled mode in a child process, stopped after --compile-timeout seconds."""
    with tempfile.TemporaryDirectory() as tmp:
        out = osp.join(tmp, 'results.json')
        command = [sys.executable, osp.abspath(__file__), *argv, '--worker', precision,
                   '--worker-out', out]
        print(f'[{precision} compiled] compiling and timing in a child process, stopped '
              f'after {args.compile_timeout:g} s', flush=True)
        child = subprocess.Popen(command, start_new_session=True)
        try:
            code = child.wait(timeout=args.compile_timeout)
            reason = f'the compiled run exited with status {code}'
        except subprocess.TimeoutExpired:
            os.killpg(child.pid, signal.SIGKILL)
            child.wait()
            reason = f'not done within --compile-timeout {args.compile_timeout:g} s'
        if osp.exists(out):
            with open(out) as f:
                return json.load(f)
    return [dict(config=osp.basename(c), precision=precision, compiled=True,
                 error=reason) for c in args.configs]


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
        if 'syncs' in r:
            print(f'host-device synchronisations in one step of {r["config"]} '
                  f'({r["precision"]}): {r["syncs"]}' +
                  (f' at {", ".join(r["sync_places"][:8])}' if r['sync_places'] else ''))


def device_name(args) -> str:
    if args.device.type == 'cuda':
        return f'{torch.cuda.get_device_name(args.device)} (torch {torch.__version__})'
    return f'CPU, {torch.get_num_threads()} threads (torch {torch.__version__})'


# -- how the step cost grows ---------------------------------------------------------

def scaling_table(args) -> dict:
    """s/iter of the first config with 0, 2, 4, 8 local crops and 160, 224, 288 px
    global crops (the other crop group as configured)."""
    case = Case(args.configs[0], args, args.precision[0], compiled=False)
    global_size, local_size = case.layout[0][0], case.layout[-1][0]
    num_global = sum(views for size, views in case.layout if size == global_size)
    num_local = sum(views for size, views in case.layout if size != global_size)
    settings = {'local': {}, 'global': {}}
    plans = ([('local', n, [(global_size, num_global), (local_size, n)]) for n in (0, 2, 4, 8)]
             + [('global', s, [(s, num_global), (local_size, num_local)])
                for s in (160, 224, 288)])
    for axis, value, layout in plans:
        batch = synthetic_batch([g for g in layout if g[1] > 0], case.batch_size,
                                case.device)
        case.timed_step(batch)  # warm-up of this shape
        seconds = float(np.median([case.timed_step(batch)
                                   for _ in range(args.scaling_iters)]))
        settings[axis][value] = seconds
        print(f'[scaling] {axis} {value}: {seconds:.3f} s/iter', flush=True)
    case.release()
    table = dict(config=case.name, batch_size=case.batch_size, precision=case.precision,
                 global_size=global_size, num_global=num_global, local_size=local_size,
                 num_local=num_local, **settings)
    print(format_scaling(table))
    return table


def format_scaling(table: dict) -> str:
    local, glob = table['local'], table['global']
    local_label = f'local crops of {table["local_size"]} px'
    with_global = f'  with {table["num_global"]} global of {table["global_size"]} px'
    with_local = f'  with {table["num_local"]} local of {table["local_size"]} px'
    return '\n'.join([
        f'\nstep cost growth: {table["config"]}, batch {table["batch_size"]}, '
        f'{table["precision"]} (seconds per iteration)',
        f'{local_label:<28}' + ''.join(f'{n:>9}' for n in local),
        f'{with_global:<28}' + ''.join(f'{s:>9.3f}' for s in local.values()),
        f'{"global crop size (px)":<28}' + ''.join(f'{s:>9}' for s in glob),
        f'{with_local:<28}' + ''.join(f'{s:>9.3f}' for s in glob.values())])


# -- the data pipeline -------------------------------------------------------------

def decoded_jpeg(width=500, height=375, seed=0) -> np.ndarray:
    """A textured BGR image that went through JPEG encoding and decoding."""
    import cv2
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:height, 0:width]
    img = np.stack([(xx * (c + 1) + yy * (3 - c)) % 256 for c in range(3)], -1)
    img = (img + rng.integers(0, 40, img.shape)).clip(0, 255).astype(np.uint8)
    ok, buf = cv2.imencode('.jpg', img, [cv2.IMWRITE_JPEG_QUALITY, 90])
    return cv2.imdecode(buf, cv2.IMREAD_COLOR)


class RandomPILGaussianBlur:
    """PIL's Gaussian blur with a radius drawn uniformly from ``radius`` (the blur of
    DINO's augmentation; torchvision's GaussianBlur has a fixed kernel size)."""

    def __init__(self, radius=(0.1, 2.0)) -> None:
        self.radius = radius

    def __call__(self, img):
        from PIL import ImageFilter
        return img.filter(ImageFilter.GaussianBlur(random.uniform(*self.radius)))


def dino_reference_pipeline(layout, global_scale=(0.4, 1.), local_scale=(0.05, 0.4)):
    """DINO's multi-crop augmentation composed from torchvision's PIL transforms.

    The transforms and parameters of DINO's reference (main_dino.py): bicubic
    RandomResizedCrop, flip, colour jitter (p 0.8), grayscale (p 0.2), PIL Gaussian
    blur (p 1.0 / 0.1 / 0.5), solarize (p 0.2, second global crop), ToTensor and
    Normalize; a list of 2 global and N local crops per image.
    """
    from torchvision import transforms as T
    bicubic = T.InterpolationMode.BICUBIC
    flip_and_color = [T.RandomHorizontalFlip(p=0.5),
                      T.RandomApply([T.ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8),
                      T.RandomGrayscale(p=0.2)]
    to_tensor = [T.ToTensor(), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))]

    def blur(p):
        return T.RandomApply([RandomPILGaussianBlur()], p=p)

    (global_size, _), (_, _), (local_size, num_local) = layout
    global_1 = T.Compose([T.RandomResizedCrop(global_size, global_scale, interpolation=bicubic),
                          *flip_and_color, blur(1.0), *to_tensor])
    global_2 = T.Compose([T.RandomResizedCrop(global_size, global_scale, interpolation=bicubic),
                          *flip_and_color, blur(0.1), T.RandomSolarize(128, p=0.2),
                          *to_tensor])
    local = T.Compose([T.RandomResizedCrop(local_size, local_scale, interpolation=bicubic),
                       *flip_and_color, blur(0.5), *to_tensor])
    return lambda img: [global_1(img), global_2(img)] + [local(img) for _ in range(num_local)]


def config_pipeline(cfg):
    """The config's train pipeline after image loading."""
    from mmcv.transforms import Compose
    return Compose([TRANSFORMS.build(t) for t in cfg.train_dataloader.dataset.pipeline
                    if t['type'] != 'LoadImageFromFile'])


def crop_transforms(cfg) -> list:
    """The built crop transforms of the config's views (global first)."""
    pipeline = next(t for t in cfg.train_dataloader.dataset.pipeline
                    if t['type'] == 'MultiView')
    return [TRANSFORMS.build(next(t for t in group if 'ResizedCrop' in t['type']))
            for group in pipeline['transforms']]


def difference_to_pil(crop, image: np.ndarray, samples: int = 20, seed: int = 0) -> float:
    """Mean absolute difference (0-255) between a crop transform's output and PIL's
    bicubic resize of the same crop box, over random boxes."""
    from PIL import Image
    rgb = Image.fromarray(np.ascontiguousarray(image[..., ::-1]))
    diffs = []
    for i in range(samples):
        np.random.seed(seed + i)
        out = crop.transform(dict(img=image.copy()))['img']
        np.random.seed(seed + i)
        top, left, h, w = crop.rand_crop_params(image)
        reference = rgb.crop((left, top, left + w, top + h)).resize(
            tuple(crop.scale[::-1]), Image.BICUBIC)
        diffs.append(np.abs(out[..., ::-1].astype(np.float32) -
                            np.asarray(reference, np.float32)).mean())
    return float(np.mean(diffs))


def on_one_core():
    """Pin the process to one core, one thread for torch and OpenCV; returns an undo."""
    import cv2
    saved = (torch.get_num_threads(), cv2.getNumThreads(),
             os.sched_getaffinity(0) if hasattr(os, 'sched_getaffinity') else None)
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    if saved[2]:
        os.sched_setaffinity(0, {min(saved[2])})

    def undo():
        torch.set_num_threads(saved[0])
        cv2.setNumThreads(saved[1])
        if saved[2]:
            os.sched_setaffinity(0, saved[2])
    return undo


DINO_REFERENCE = 'DINO reference (torchvision, PIL)'


def benchmark_pipeline(configs: Sequence[str], args) -> dict:
    """Images per second of each config's data pipeline (each distinct one once) and
    of DINO's torchvision/PIL augmentation, on one core, in alternating rounds."""
    from PIL import Image
    image = decoded_jpeg()
    pil_image = Image.fromarray(np.ascontiguousarray(image[..., ::-1]))

    def loaded():
        return dict(img=image.copy(), img_shape=image.shape[:2], ori_shape=image.shape[:2])

    candidates, seen = {}, []
    for config in configs:
        cfg = Config.fromfile(config)
        cfg.merge_from_dict(args.cfg_options)
        pipeline = cfg.train_dataloader.dataset.pipeline
        if pipeline in seen:
            continue
        seen.append(pipeline)
        candidates[osp.basename(config)] = dict(
            run=config_pipeline(cfg), make_input=loaded, pil_difference=float(np.mean(
                [difference_to_pil(c, image) for c in crop_transforms(cfg)])))
    candidates[DINO_REFERENCE] = dict(run=dino_reference_pipeline(crop_layout(cfg)),
                                      make_input=pil_image.copy, pil_difference=0.)
    seconds = dict.fromkeys(candidates, 0.)
    per_round = max(1, args.pipeline_images // args.pipeline_rounds)
    clock = time.process_time if args.timer == 'process' else time.perf_counter
    undo = on_one_core()
    try:
        for _ in range(args.pipeline_rounds):
            for name, candidate in candidates.items():
                inputs = [candidate['make_input']() for _ in range(per_round)]  # decoded
                start = clock()
                for item in inputs:
                    candidate['run'](item)
                seconds[name] += clock() - start
    finally:
        undo()
    images = per_round * args.pipeline_rounds
    return {name: dict(images_per_second=images / seconds[name],
                       pil_difference=c['pil_difference'])
            for name, c in candidates.items()}


def print_pipeline(result: dict, args) -> None:
    reference = result[DINO_REFERENCE]['images_per_second']
    images = max(1, args.pipeline_images // args.pipeline_rounds) * args.pipeline_rounds
    timer = ', CPU time of the process' if args.timer == 'process' else ''
    print(f'\ndata pipelines on one core, one thread{timer}: {images} images each in '
          f'{args.pipeline_rounds} alternating rounds, from a decoded 500x375 JPEG '
          '(decoding excluded)')
    print(f'{"pipeline":<56} {"img/s":>7} {"vs DINO":>8} {"|crop - PIL|":>13}')
    for name, r in result.items():
        print(f'{name:<56} {r["images_per_second"]:>7.1f} '
              f'{r["images_per_second"] / reference:>7.2f}x {r["pil_difference"]:>13.2f}')
    print("|crop - PIL|: mean absolute difference (0-255 levels) of the crops' resize to "
          "PIL's bicubic resize of the same box, which DINO's crops are")


# -- main ----------------------------------------------------------------------------

def main(argv=None):
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    init_default_scope('mmpretrain')
    # no weight-init tables, nor a line for each of the teacher's frozen parameters
    MMLogger.get_current_instance().setLevel('ERROR')
    hub = MessageHub.get_instance('benchmark_pretrain')
    hub.update_info('max_iters', 1000)
    hub.update_info('epoch', 1)  # past the frozen last layer
    if args.worker:  # a compiled mode, in a child process
        results = run_mode(args, args.worker, compiled=True)
        with open(args.worker_out, 'w') as f:
            json.dump(results, f)
        return
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
        results += run_compiled_mode(args, precision, argv)
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
