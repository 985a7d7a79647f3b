#!/usr/bin/env python
"""Measure the speed and memory of pre-training configs, side by side.

For each CONFIG it builds the model and optimizer, feeds synthetic multi-crop batches of
the config's crop sizes and batch size, and prints seconds per iteration, images per
second, peak memory, and the time of each phase (teacher forward, masking, student
forward, decoder, backward, optimizer step). With --pipeline it also measures the
config's multi-crop data pipeline on one core from a decoded JPEG, beside DINO's
torchvision/PIL augmentation as a reference.

Examples:
    python tools/analysis_tools/benchmark_pretrain.py \\
        configs/pretrain/mst_vit-small-p16_16xb64-coslr-100e_in1k.py \\
        configs/pretrain/dino_vit-small-p16_16xb64-coslr-100e_in1k.py \\
        --batch-size 4 --iters 5 --pipeline
"""
import argparse
import os.path as osp
import resource
import time
from typing import Dict, List, Tuple

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


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('configs', nargs='+', help='pre-training configs to compare')
    parser.add_argument('--batch-size', type=int,
                        help="images per iteration (default: the config's batch size)")
    parser.add_argument('--iters', type=int, default=5, help='timed iterations')
    parser.add_argument('--warmup', type=int, default=2, help='untimed iterations first')
    parser.add_argument('--device', default='auto', help="'cpu', 'cuda' or 'auto'")
    parser.add_argument('--amp', action='store_true', help='autocast and a loss scaler')
    parser.add_argument('--pipeline', action='store_true',
                        help='also measure the data pipeline on one core')
    parser.add_argument('--pipeline-images', type=int, default=100,
                        help='images for the pipeline measurement')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override keys of every config')
    return parser.parse_args()


# -- the model step ----------------------------------------------------------------

def crop_layout(cfg) -> List[Tuple[int, int]]:
    """(crop size, number of views) per view group of the config's MultiView."""
    for transform in cfg.train_dataloader.dataset.pipeline:
        if transform['type'] == 'MultiView':
            layout = []
            for views, group in zip(transform['num_views'], transform['transforms']):
                crop = next(t for t in group if t['type'] == 'RandomResizedCrop')
                layout.append((int(crop['scale']), int(views)))
            return layout
    raise ValueError('the config has no MultiView transform in its train pipeline')


def synthetic_batch(layout, batch_size: int) -> dict:
    inputs = []
    for size, views in layout:
        inputs += [torch.randint(0, 256, (batch_size, 3, size, size), dtype=torch.uint8)
                   for _ in range(views)]
    return dict(inputs=inputs, data_samples=None)


def peak_memory_mb(device: torch.device) -> float:
    if device.type == 'cuda':
        return torch.cuda.max_memory_allocated(device) / 2**20
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10


def sync(device: torch.device) -> None:
    if device.type == 'cuda':
        torch.cuda.synchronize(device)


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


def build_case(config: str, args) -> dict:
    """The model, optimizer and a synthetic batch of one config."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(args.cfg_options)
    device = torch.device(('cuda' if torch.cuda.is_available() else 'cpu')
                          if args.device == 'auto' else args.device)
    batch_size = args.batch_size or cfg.train_dataloader.batch_size
    model = MODELS.build(cfg.model).to(device)
    model.init_weights()
    model.train()
    optim_cfg = cfg.optim_wrapper.copy()
    if args.amp:
        optim_cfg.update(type='AmpOptimWrapper', loss_scale='dynamic')
    batch = synthetic_batch(crop_layout(cfg), batch_size)
    batch['inputs'] = [v.to(device) for v in batch['inputs']]
    return dict(name=osp.basename(config), model=model, batch=batch, device=device,
                batch_size=batch_size, optim_wrapper=build_optim_wrapper(model, optim_cfg),
                times=[])


def time_iteration(case: dict) -> None:
    sync(case['device'])
    start = time.perf_counter()
    train_iteration(case['model'], case['optim_wrapper'], case['batch'])
    sync(case['device'])
    case['times'].append(time.perf_counter() - start)


def profile_phases(case: dict, iters: int = 2) -> Dict[str, float]:
    """Seconds per iteration of each labelled phase, from torch's profiler."""
    on_gpu = case['device'].type == 'cuda'
    activities = [torch.profiler.ProfilerActivity.CPU]
    if on_gpu:
        activities.append(torch.profiler.ProfilerActivity.CUDA)
    with torch.profiler.profile(activities=activities) as prof:
        for _ in range(iters):
            train_iteration(case['model'], case['optim_wrapper'], case['batch'])
        sync(case['device'])
    phases = {name: 0. for name in PHASES}
    for event in prof.key_averages():
        if event.key in phases:
            total = event.device_time_total if on_gpu else event.cpu_time_total
            phases[event.key] = total / iters / 1e6
    return phases


def benchmark_models(args) -> List[dict]:
    """Time the configs' train steps in alternation, so that both see the same machine."""
    hub = MessageHub.get_instance('benchmark_pretrain')
    hub.update_info('max_iters', 1000)
    hub.update_info('epoch', 1)  # past the frozen last layer
    cases = [build_case(config, args) for config in args.configs]
    for i in range(args.warmup + args.iters):
        for case in cases:
            time_iteration(case)
        print(f'round {i + 1}/{args.warmup + args.iters}: ' + ', '.join(
            f'{c["name"]} {c["times"][-1]:.3f} s' for c in cases), flush=True)
    for case in cases:
        del case['times'][:args.warmup]
        case['seconds_per_iter'] = float(np.median(case['times']))
        case['images_per_second'] = case['batch_size'] / case['seconds_per_iter']
        case['phases'] = profile_phases(case)
        case['peak_memory_mb'] = peak_memory_mb(case['device'])
    return cases


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


def dino_reference_pipeline(layout):
    """DINO's torchvision/PIL multi-crop augmentation, for comparison."""
    from torchvision import transforms as T
    flip_color = [T.RandomHorizontalFlip(),
                  T.RandomApply([T.ColorJitter(0.4, 0.4, 0.2, 0.1)], p=0.8),
                  T.RandomGrayscale(p=0.2)]
    finish = [T.ToTensor(), T.Normalize((0.485, 0.456, 0.406), (0.229, 0.224, 0.225))]
    blur = lambda p: T.RandomApply([T.GaussianBlur(9, sigma=(0.1, 2.0))], p=p)  # noqa
    (g_size, _), (_, _), (l_size, n_local) = layout
    bicubic = T.InterpolationMode.BICUBIC
    g1 = T.Compose([T.RandomResizedCrop(g_size, (0.4, 1.), interpolation=bicubic),
                    *flip_color, blur(1.0), *finish])
    g2 = T.Compose([T.RandomResizedCrop(g_size, (0.4, 1.), interpolation=bicubic),
                    *flip_color, blur(0.1), T.RandomSolarize(128, p=0.2), *finish])
    loc = T.Compose([T.RandomResizedCrop(l_size, (0.05, 0.4), interpolation=bicubic),
                     *flip_color, blur(0.5), *finish])
    return lambda img: [g1(img), g2(img)] + [loc(img) for _ in range(n_local)]


def benchmark_pipeline(config: str, num_images: int) -> Dict[str, float]:
    import cv2
    from mmcv.transforms import Compose
    from PIL import Image
    cfg = Config.fromfile(config)
    pipeline = Compose([TRANSFORMS.build(t) for t in cfg.train_dataloader.dataset.pipeline
                        if t['type'] != 'LoadImageFromFile'])
    threads = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    image = decoded_jpeg()
    results = {}
    start = time.perf_counter()
    for _ in range(num_images):
        pipeline(dict(img=image.copy(), img_shape=image.shape[:2],
                      ori_shape=image.shape[:2]))
    results['pipeline_images_per_second'] = num_images / (time.perf_counter() - start)
    reference = dino_reference_pipeline(crop_layout(cfg))
    pil_image = Image.fromarray(image[..., ::-1])
    start = time.perf_counter()
    for _ in range(num_images):
        reference(pil_image.copy())
    results['dino_torchvision_images_per_second'] = num_images / (
        time.perf_counter() - start)
    torch.set_num_threads(threads[0])
    cv2.setNumThreads(threads[1])
    return results


def main():
    args = parse_args()
    init_default_scope('mmpretrain')
    MMLogger.get_current_instance().setLevel('WARNING')  # no weight-init tables
    if args.pipeline:  # first, before the models take the memory
        print(f'data pipeline on one core, from a decoded 500x375 JPEG '
              f'({args.pipeline_images} images):')
        for config in dict.fromkeys(args.configs):
            res = benchmark_pipeline(config, args.pipeline_images)
            print(f'{osp.basename(config):<56} mmpretrain transforms '
                  f'{res["pipeline_images_per_second"]:6.1f} img/s; DINO torchvision/PIL '
                  f'{res["dino_torchvision_images_per_second"]:6.1f} img/s', flush=True)
    cases = benchmark_models(args)
    first = cases[0]
    print(f'\nmedian of {args.iters} iterations, batch {first["batch_size"]} on '
          f'{first["device"]} (peak memory is of the whole process on CPU)')
    print(f'{"config":<56} {"s/iter":>8} {"img/s":>8} {"peak MB":>9} {"vs first":>9}')
    for case in cases:
        ratio = case['seconds_per_iter'] / first['seconds_per_iter']
        print(f'{case["name"]:<56} {case["seconds_per_iter"]:>8.3f} '
              f'{case["images_per_second"]:>8.2f} {case["peak_memory_mb"]:>9.0f} '
              f'{ratio:>8.3f}x')
    print('\nseconds per iteration by phase (profiled):')
    print(f'{"config":<56} ' + ' '.join(f'{p[:13]:>13}' for p in PHASES))
    for case in cases:
        print(f'{case["name"]:<56} ' +
              ' '.join(f'{case["phases"][p]:>13.3f}' for p in PHASES))


if __name__ == '__main__':
    main()
