"""The speed, memory and FLOPs of a pre-training config's train step.

A :class:`Case` builds a config's model and optimizer in one mode (a precision, eager
or with the transformer blocks under torch.compile) and feeds it synthetic multi-crop
batches of the config's crop sizes (data loading excluded); :func:`run_mode` times the
step of several configs in alternation, so that all see the same machine, and measures
each one's peak memory, FLOPs (torch.utils.flop_counter), phases and host-device
synchronisations. :func:`run_compiled_mode` runs a compiled mode in a child process
(``python -m mst_mm.analysis.speed``), stopped after a timeout.

The functions take the options of tools/analysis_tools/benchmark_pretrain.py as
``args``: ``configs``, ``cfg_options``, ``batch_size``, ``device`` (a torch.device),
``timer``, ``fused_adamw``, ``warmup``, ``iters``, ``flops``, ``phases``,
``check_sync``, ``threads`` and ``compile_timeout``, as each one needs.
"""
import json
import os
import os.path as osp
import pickle
import resource
import signal
import subprocess
import sys
import tempfile
import time
import warnings
from typing import Callable, Dict, List, Optional, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.logging import MessageHub, MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmpretrain.registry import MODELS

import mst_mm  # noqa: F401  (registers MST's modules)

PHASES = ('teacher_forward', 'masking', 'student_forward', 'decoder', 'backward',
          'optimizer_step')
PRECISIONS = ('fp32', 'fp16', 'bf16')
H200_BF16_DENSE_TFLOPS = 989.0


def prepare_scope() -> None:
    """mmpretrain's default scope, mmengine's logger quiet, and the training progress
    the models read (past the frozen last layer), as a step outside a runner needs."""
    init_default_scope('mmpretrain')
    # no weight-init tables, nor a line for each of the teacher's frozen parameters
    MMLogger.get_current_instance().setLevel('ERROR')
    hub = MessageHub.get_instance('benchmark_pretrain')
    hub.update_info('max_iters', 1000)
    hub.update_info('epoch', 1)  # past the frozen last layer


def clock(timer: str) -> Callable[[], float]:
    """The clock of ``timer``: CPU seconds of the process ('process') or wall time."""
    return time.process_time if timer == 'process' else time.perf_counter


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
    """torch.compile the transformer blocks of the student and the teacher, as
    ``model.compile_blocks=True`` does in training (:meth:`MST.compile_blocks`)."""
    model.compile_blocks()


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
        now = clock(self.timer)
        sync(self.device)
        start = now()
        self.step(batch)
        sync(self.device)
        return now() - start

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


def profile_phases(case: Case, iters: int = 2, top: int = 15
                   ) -> Tuple[Dict[str, float], List[dict]]:
    """Seconds per iteration of each labelled phase, and the ``top`` operations by
    their own time (device time on a GPU), from torch's profiler."""
    on_gpu = case.device.type == 'cuda'
    activities = [torch.profiler.ProfilerActivity.CPU]
    if on_gpu:
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        for _ in range(iters):
            case.step()
        sync(case.device)
    phases = {name: 0. for name in PHASES}
    events = prof.key_averages()
    for event in events:
        if event.key in phases:
            total = event.device_time_total if on_gpu else event.cpu_time_total
            phases[event.key] = total / iters / 1e6

    def own_time(event) -> float:
        return event.self_device_time_total if on_gpu else event.self_cpu_time_total

    ranked = sorted((e for e in events if e.key not in phases), key=own_time, reverse=True)
    kernels = [dict(name=e.key[:90], ms_per_iter=own_time(e) / iters / 1e3,
                    calls_per_iter=e.count / iters) for e in ranked[:top]]
    return phases, kernels


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
                    row['phases'], row['top_ops'] = profile_phases(case)
                if args.check_sync and case.device.type == 'cuda':
                    row['syncs'], row['sync_places'] = count_syncs(case)
        except Exception as error:
            row['error'] = error_text(error)
        case.release()
    cases.clear()
    if args.device.type == 'cuda':
        torch.cuda.empty_cache()
    return rows


# -- a compiled mode, in a child process ---------------------------------------------

def run_compiled_mode(args, precision: str) -> List[dict]:
    """A compiled mode in a child process, stopped after --compile-timeout seconds.

    The child (:func:`main`, ``python -m mst_mm.analysis.speed``) reads ``args`` from a
    pickle that this process writes into its own temporary folder, and writes the rows
    of :func:`run_mode` as JSON beside it.
    """
    with tempfile.TemporaryDirectory() as tmp:
        out, settings = osp.join(tmp, 'results.json'), osp.join(tmp, 'args.pickle')
        with open(settings, 'wb') as f:
            pickle.dump(args, f)
        command = [sys.executable, '-m', 'mst_mm.analysis.speed', settings, precision, out]
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


def main(argv=None) -> None:
    """The child of :func:`run_compiled_mode`: ``SETTINGS PRECISION OUT``."""
    settings, precision, out = sys.argv[1:] if argv is None else argv
    with open(settings, 'rb') as f:  # written by the parent, in its private folder
        args = pickle.load(f)
    if args.threads:
        torch.set_num_threads(args.threads)
    prepare_scope()
    results = run_mode(args, precision, compiled=True)
    with open(out, 'w') as f:
        json.dump(results, f)


if __name__ == '__main__':
    main()
