"""The speed of a pre-training config's data pipeline beside DINO's augmentation.

:func:`benchmark_pipeline` runs each config's train pipeline (image loading excluded)
and :func:`dino_reference_pipeline`, a torchvision/PIL composition of DINO's multi-crop
augmentation, on one core, in alternating rounds, from a decoded JPEG; it also compares
each pipeline's crop resize with PIL's bicubic resize, which DINO's crops are.
"""
import os
import os.path as osp
import random
from typing import Sequence

import numpy as np
import torch
from mmengine.config import Config

from mmpretrain.registry import TRANSFORMS

from .speed import clock, crop_layout

DINO_REFERENCE = 'DINO reference (torchvision, PIL)'


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


def benchmark_pipeline(configs: Sequence[str], args) -> dict:
    """Images per second of each config's data pipeline (each distinct one once) and
    of DINO's torchvision/PIL augmentation, on one core, in alternating rounds.

    ``args``: ``cfg_options``, ``pipeline_images``, ``pipeline_rounds`` and ``timer``.
    """
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
    now = clock(args.timer)
    undo = on_one_core()
    try:
        for _ in range(args.pipeline_rounds):
            for name, candidate in candidates.items():
                inputs = [candidate['make_input']() for _ in range(per_round)]  # decoded
                start = now()
                for item in inputs:
                    candidate['run'](item)
                seconds[name] += now() - start
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
