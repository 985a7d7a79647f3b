#!/usr/bin/env python
"""Show what the attention-guided mask does on any image.

For each IMAGE a PNG with, side by side: the crop the model sees, the teacher's
last-block [CLS] attention as a heat map, the patches each strategy would mask
('low' = MST, 'random', 'high'; masked patches greyed), and the global image decoder's
reconstruction of the 'low'-masked crop (when the model has a decoder).

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

from mmpretrain.registry import MODELS

import mst_mm  # noqa: F401  (registers the modules, weights-only checkpoint loading)
from mst_mm.checkpoint import CheckpointFileError
from mst_mm.models.vit_utils import capture_last_block_qkv, cls_attention, masked_patch_embedding

STRATEGIES = ('low', 'random', 'high')


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


def grey_out(image: np.ndarray, mask: np.ndarray, grid: int) -> np.ndarray:
    """Grey the masked patches of an image."""
    size = image.shape[0]
    cells = cv2.resize(mask.reshape(grid, grid).astype(np.uint8), (size, size),
                       interpolation=cv2.INTER_NEAREST).astype(bool)
    out = image.copy()
    out[cells] = (0.3 * out[cells] + 0.7 * 128).astype(np.uint8)
    return out


def label(panel: np.ndarray, text: str) -> np.ndarray:
    panel = panel.copy()
    scale = max(panel.shape[0] / 400, 0.3)
    cv2.putText(panel, text, (3, int(14 * scale) + 3), cv2.FONT_HERSHEY_SIMPLEX, scale,
                (255, 255, 255), 1, cv2.LINE_AA)
    return panel


@torch.no_grad()
def panels_for(model, image: np.ndarray, mask_cfg: dict) -> list:
    size = image.shape[0]
    data = model.data_preprocessor(
        dict(inputs=[torch.from_numpy(image).permute(2, 0, 1)[None]], data_samples=None), False)
    crop = data['inputs'][0]
    teacher = model.teacher.module['backbone']
    with capture_last_block_qkv(teacher) as qkv:
        teacher(crop)
    attention = cls_attention(qkv[0], teacher.layers[-1].attn.num_heads,
                              teacher.num_extra_tokens)
    grid = int(round(attention.shape[1]**0.5))
    heat = attention[0].reshape(grid, grid).numpy()
    heat = (255 * (heat - heat.min()) / max(heat.max() - heat.min(), 1e-12)).astype(np.uint8)
    heat = cv2.applyColorMap(cv2.resize(heat, (size, size), interpolation=cv2.INTER_NEAREST),
                             cv2.COLORMAP_JET)
    panels = [label(image, 'crop'), label(cv2.addWeighted(image, 0.4, heat, 0.6, 0),
                                          '[CLS] attention')]
    masks = {}
    for strategy in STRATEGIES:
        generator = MODELS.build(dict(mask_cfg, type='AttentionGuidedMaskGenerator',
                                      strategy=strategy))
        masks[strategy] = generator(attention)
        panels.append(label(grey_out(image, masks[strategy][0].numpy(), grid),
                            f'mask: {strategy}'))
    if model.decoder is not None:
        token = getattr(model, 'mask_token', torch.zeros(1, 1, teacher.embed_dims))
        with masked_patch_embedding(model.backbone, masks['low'], token):
            tokens = model.backbone(crop)[-1][:, model.backbone.num_extra_tokens:]
        restored = model.decoder(tokens, model.patch_grid(crop))[0]
        pre = model.data_preprocessor
        restored = restored * pre.std.view(3, 1, 1) + pre.mean.view(3, 1, 1)
        restored = restored.clamp(0, 255).byte().permute(1, 2, 0).numpy()
        if pre._channel_conversion:
            restored = restored[..., ::-1]
        panels.append(label(np.ascontiguousarray(restored), 'reconstruction'))
    return panels


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
    size = args.size or model.backbone.patch_resolution[0] * model.backbone.patch_embed.projection.stride[0]
    mask_cfg = {k: v for k, v in (cfg.model.get('mask_generator') or {}).items()
                if k in ('candidate_ratio', 'mask_prob')}
    os.makedirs(args.out_dir, exist_ok=True)
    for i, path in enumerate(args.images, 1):
        torch.manual_seed(args.seed)
        panels = panels_for(model, load_image(path, size), mask_cfg)
        out = osp.join(args.out_dir, osp.splitext(osp.basename(path))[0] + '_mask.png')
        cv2.imwrite(out, np.concatenate(panels, axis=1))
        print(f'[{i}/{len(args.images)}] {out}', flush=True)


if __name__ == '__main__':
    main()
