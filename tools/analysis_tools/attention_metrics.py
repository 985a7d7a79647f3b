#!/usr/bin/env python
"""Measure MST's mechanisms on a COCO-format set with instance masks.

Per image, on the global crop (the whole image resized to the backbone's img_size, the
pre-training's global crop size, with its bicubic resize; no augmentation):

  attn_object_ratio        the teacher's last-block [CLS] attention mass on the objects
                           over the objects' share of the crop (1: blind to objects)
  attn_jaccard60           DINO's Jaccard of the most attended patches holding 60 % of
                           the attention mass and the union of the object masks
  masked_on_object_low     share of the masked patches lying on objects, for the
  masked_on_object_random  AttentionGuidedMaskGenerator of each strategy with the
  masked_on_object_high    model's candidate_ratio and mask_prob (DINO baseline: the
                           generator's defaults), seeded; MST claims low < random
  restore_psnr             the decoder's PSNR (dB, 0-255 RGB, all pixels) on the crop
                           masked with the model's own strategy; null without decoder

A patch counts by the share of its pixels inside the union of the instance masks, so
every figure is pixel-exact in the crop. Images without instance masks are skipped.
See mst_mm/evaluation/attention_metrics.py for the definitions.

CHECKPOINT is a pre-training checkpoint of CONFIG (the teacher is measured) or a
backbone file (tools/model_converters/extract_backbone.py, DINO or timm weights: loaded
into the teacher; no decoder figure). --random-init measures the config's seeded
initialisation instead. Every file is loaded weights-only.

Writes OUT (JSON: the settings, "mean" and "per_image" with the keys above, plus
"object_share") and, for the first --show images, show_mask pictures into SHOW_DIR;
prints a table.

Examples:
    python tools/analysis_tools/attention_metrics.py \\
        configs/pretrain/mst_vit-toy-p8_1xb32-20e_toy.py \\
        work_dirs/mst_vit-toy-p8_1xb32-20e_toy/epoch_20.pth
    python tools/analysis_tools/attention_metrics.py \\
        configs/pretrain/mst_vit-small-p16_16xb64-coslr-100e_in1k.py epoch_100.pth \\
        --ann-file data/coco/annotations/instances_val2017.json \\
        --img-dir data/coco/val2017 --max-images 500
"""
import argparse
import json
import math
import os
import os.path as osp
import sys

import cv2
import torch
from mmengine.config import Config, DictAction
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope
from mmengine.runner import set_random_seed

import mst_mm  # noqa: F401
from mmpretrain.registry import MODELS  # after mst_mm: see mst_mm.utils.compat
from mst_mm.evaluation.attention_metrics import (METRIC_KEYS, CocoCrops, attention_mass_region,
                                                 global_crop_size, mask_settings, measure,
                                                 teacher_backbone)
from mst_mm.evaluation.mask_figure import compose, mask_panels
from mst_mm.models.vit_converters import (CheckpointError, convert_to_backbone, detect_format,
                                           load_checkpoint_file)

TOY_COCO = 'data/toy/coco/'
COLUMNS = (('object_share', 'objects'), ('attn_object_ratio', 'attn/obj'),
           ('attn_jaccard60', 'J60'), ('masked_on_object_low', 'on-obj low'),
           ('masked_on_object_random', 'on-obj rand'),
           ('masked_on_object_high', 'on-obj high'),
           ('restore_psnr', 'PSNR dB'))


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='the pre-training config')
    parser.add_argument('checkpoint', nargs='?',
                        help='a pre-training checkpoint of CONFIG, or a backbone file')
    parser.add_argument('--random-init', action='store_true',
                        help="measure the config's initialisation (seeded by --seed) "
                        'instead of a checkpoint')
    parser.add_argument('--ann-file', default=TOY_COCO + 'annotations/instances_val2017.json',
                        help='COCO-format instance annotations (default: the toy COCO val '
                        'of tools/dataset_converters/make_toy_data.py)')
    parser.add_argument('--img-dir', default=TOY_COCO + 'val2017',
                        help='folder of its images (default: the toy COCO val2017)')
    parser.add_argument('--max-images', type=int, help='measure the first images only')
    parser.add_argument('--num-draws', type=int, default=8,
                        help='masks drawn per strategy and image (default 8)')
    parser.add_argument('--seed', type=int, default=0, help='seed of the draws (default 0)')
    parser.add_argument('--batch-size', type=int, default=32)
    parser.add_argument('--out', help='the JSON (default: work_dirs/attention_metrics/'
                        '<config name>.json)')
    parser.add_argument('--show', type=int, default=8,
                        help='pictures of the first images (default 8; 0 for none)')
    parser.add_argument('--show-dir', help='where the pictures go (default: beside OUT, '
                        'in <OUT name>_show/)')
    parser.add_argument('--device', default='cuda' if torch.cuda.is_available() else 'cpu',
                        help='default: cuda when available, else cpu')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction, default={},
                        help='override config keys')
    args = parser.parse_args()
    if (args.checkpoint is None) == (not args.random_init):
        parser.error('give either CHECKPOINT or --random-init')
    return args


def load_weights(model, path: str) -> str:
    """Load an MST checkpoint into the model or a backbone file into its teacher;
    say which."""
    checkpoint = load_checkpoint_file(path)
    if detect_format(checkpoint) == 'mst':
        state_dict = checkpoint.get('state_dict', checkpoint)
        result = model.load_state_dict(state_dict, strict=False)
        if result.missing_keys or result.unexpected_keys:
            raise CheckpointError(
                f'{path} is not a checkpoint of this config: missing '
                f'{result.missing_keys[:5]}, unexpected {result.unexpected_keys[:5]}.')
        return 'pre-training checkpoint (teacher)'
    state_dict, report = convert_to_backbone(path)
    print(report.summary())
    result = teacher_backbone(model).load_state_dict(state_dict, strict=False)
    if result.missing_keys or result.unexpected_keys:
        raise CheckpointError(f'{path}: does not fit the config\'s backbone: missing '
                              f'{result.missing_keys[:5]}, unexpected '
                              f'{result.unexpected_keys[:5]}.')
    model.decoder = None  # not in a backbone file
    return 'backbone file (teacher; no decoder)'


def build_model(args):
    # Only warnings from mmengine (the initialisation logs every tensor otherwise).
    MMLogger.get_instance('attention_metrics', log_level='WARNING')
    cfg = Config.fromfile(args.config)
    cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    set_random_seed(args.seed)
    model = MODELS.build(cfg.model)
    if args.random_init:
        model.init_weights()
        # The teacher starts as a copy of the student (its first EMA step).
        teacher_backbone(model).load_state_dict(model.backbone.state_dict())
        source = f'random initialisation (seed {args.seed})'
    else:
        try:
            source = load_weights(model, args.checkpoint)
        except (CheckpointError, RuntimeError) as error:
            raise SystemExit(f'error: {error}')
    return model.to(args.device).eval(), source


def fmt(value) -> str:
    return '-' if value is None or not math.isfinite(value) else f'{value:.3f}'


def print_table(per_image, mean, rows: int = 10) -> None:
    header = ['image'] + [title for _, title in COLUMNS]
    lines = [[row['image']] + [fmt(row[key]) for key, _ in COLUMNS]
             for row in per_image[:rows]]
    if len(per_image) > rows:
        lines.append([f'... {len(per_image) - rows} more'] + [''] * len(COLUMNS))
    lines.append([f'mean of {mean["num_images"]}'] + [fmt(mean[key]) for key, _ in COLUMNS])
    widths = [max(len(x[i]) for x in [header] + lines) for i in range(len(header))]
    for line in [header, ['-' * w for w in widths]] + lines:
        print('  '.join(x.ljust(w) if i == 0 else x.rjust(w)
                        for i, (x, w) in enumerate(zip(line, widths))))


def finite_or_none(row: dict) -> dict:
    """JSON has no NaN: undefined figures are null."""
    return {k: (None if isinstance(v, float) and not math.isfinite(v) else v)
            for k, v in row.items()}


def main():
    args = parse_args()
    model, source = build_model(args)
    out = args.out or osp.join('work_dirs', 'attention_metrics',
                               osp.splitext(osp.basename(args.config))[0] + '.json')
    crop_size = global_crop_size(model)
    patch_size = model.backbone.patch_embed.projection.stride[0]
    try:
        crops = CocoCrops(args.ann_file, args.img_dir, crop_size, patch_size, args.max_images)
    except (FileNotFoundError, ValueError) as error:
        raise SystemExit(f'error: {error}' + (
            '\nwrite the toy data with: python tools/dataset_converters/make_toy_data.py '
            'data/toy' if args.ann_file.startswith(TOY_COCO) else ''))
    if crops.skipped_message():
        print(crops.skipped_message())
    print(f'{args.config}: {source}; {len(crops)} images of {args.ann_file}, '
          f'{crop_size} px crops, {patch_size} px patches', flush=True)
    try:
        result = measure(model, crops, seed=args.seed, num_draws=args.num_draws,
                         batch_size=args.batch_size, keep=args.show,
                         log=lambda line: print(line, flush=True))
    except FileNotFoundError as error:
        raise SystemExit(f'error: {error}')

    mean = result.mean
    report = dict(
        config=args.config, checkpoint=args.checkpoint, weights=source,
        ann_file=args.ann_file, img_dir=args.img_dir, crop_size=crop_size,
        patch_size=patch_size, seed=args.seed, num_draws=args.num_draws,
        mask=mask_settings(model), restore_mask=result.restore_strategy,
        psnr_space='0-255 RGB, all pixels of the crop', metric_keys=list(METRIC_KEYS),
        mean=finite_or_none(mean), per_image=[finite_or_none(r) for r in result.per_image])
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with open(out, 'w') as f:
        json.dump(report, f, indent=1)
    print_table(result.per_image, mean)
    print(f'written {out}')

    if result.examples:
        show_dir = args.show_dir or osp.splitext(out)[0] + '_show'
        os.makedirs(show_dir, exist_ok=True)
        for example in result.examples:
            region = attention_mass_region(torch.from_numpy(example.attention)).numpy()
            panels = mask_panels(example.crop.crop, example.attention, example.masks,
                                 example.restored,
                                 objects=(example.crop.coverage.reshape(-1), region),
                                 restored_mask=result.restore_strategy or 'none')
            name = osp.splitext(osp.basename(example.crop.name))[0] + '_mask.png'
            cv2.imwrite(osp.join(show_dir, name), compose(panels))
        print(f'{len(result.examples)} pictures in {show_dir}')


if __name__ == '__main__':
    sys.exit(main())
