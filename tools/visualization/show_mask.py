#!/usr/bin/env python
"""Show what the attention-guided mask does on any image.

For each IMAGE a PNG with, side by side and titled: the crop the model sees (the
centre square, resized), the teacher's last-block [CLS] attention as a heat map, the
patches each strategy would mask ('low' = MST, 'random', 'high'; masked patches greyed;
the model's candidate_ratio and mask_prob), and the global image decoder's restoration
of the crop masked with the model's own strategy (when the model has a decoder). Panels
are upsampled with nearest-neighbour to at least 192 px.
For images with instance masks, tools/analysis_tools/attention_metrics.py draws the same
pictures with the objects and measures what they show.

Example:
    python tools/visualization/show_mask.py configs/pretrain/mst_vit-toy-p8_1xb32-20e_toy.py \\
        work_dirs/mst_vit-toy-p8_1xb32-20e_toy/epoch_20.pth data/toy/imagenet/val/*/val_00000*.JPEG
writes one PNG per image into --out-dir (default: work_dirs/show_mask).
"""
import argparse
import os
import os.path as osp

import cv2
import numpy as np
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope
from mmengine.runner import load_checkpoint

import mst_mm  # noqa: F401  (registers the modules, weights-only checkpoint loading)
from mmpretrain.registry import MODELS  # after mst_mm: see mst_mm.utils.compat
from mst_mm.safe_load import CheckpointFileError
from mst_mm.evaluation.attention_metrics import (global_crop_size, mechanism_maps,
                                                 own_mask_strategy, preprocess)
from mst_mm.evaluation.mask_figure import compose, mask_panels


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the pre-training config')
    parser.add_argument('checkpoint', help='a pre-training checkpoint of that config')
    parser.add_argument('images', nargs='+', help='any images')
    parser.add_argument('--out-dir', default='work_dirs/show_mask')
    parser.add_argument('--size', type=int, help="crop size (default: the model's img_size)")
    parser.add_argument('--seed', type=int, default=0, help='seed of the random draws')
    return parser.parse_args()


def load_image(path: str, size: int) -> np.ndarray:
    """The centre square of an image, resized to size x size (BGR uint8)."""
    image = cv2.imread(path, cv2.IMREAD_COLOR)
    if image is None:
        raise SystemExit(f'cannot read image {path}')
    h, w = image.shape[:2]
    side = min(h, w)
    top, left = (h - side) // 2, (w - side) // 2
    return cv2.resize(image[top:top + side, left:left + side], (size, size),
                      interpolation=cv2.INTER_AREA)


@torch.no_grad()
def panels_for(model, image: np.ndarray) -> list:
    """The show_mask panels of one crop (BGR uint8, the model's crop size)."""
    attention, masks, restored = mechanism_maps(model, preprocess(model, image[None]))
    if restored is not None:
        restored = restored[0].round().byte().permute(1, 2, 0).cpu().numpy()
    return mask_panels(image, attention[0].cpu().numpy(),
                       {s: m[0, 0].cpu().numpy() for s, m in masks.items()}, restored,
                       restored_mask=own_mask_strategy(model) or 'none')


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = MODELS.build(cfg.model)
    try:  # weights-only, as every load once mst_mm is imported
        load_checkpoint(model, args.checkpoint, map_location='cpu', strict=True)
    except (CheckpointFileError, FileNotFoundError) as error:
        raise SystemExit(f'error: {error}')
    model.eval()
    size = args.size or global_crop_size(model)
    os.makedirs(args.out_dir, exist_ok=True)
    for i, path in enumerate(args.images, 1):
        torch.manual_seed(args.seed)
        panels = panels_for(model, load_image(path, size))
        out = osp.join(args.out_dir, osp.splitext(osp.basename(path))[0] + '_mask.png')
        cv2.imwrite(out, compose(panels))
        print(f'[{i}/{len(args.images)}] {out}', flush=True)


if __name__ == '__main__':
    main()
