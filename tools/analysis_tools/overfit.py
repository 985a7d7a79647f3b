#!/usr/bin/env python
"""Check that a full transfer config learns: fit a few training images, test on them.

Trains CONFIG (a detection or segmentation config) from a pre-trained backbone on its
first --images training images as one batch for --iters iterations with its own
optimizer (a short warm-up, no decay), then tests it on the same images with its own
evaluator, through tools/train.py and tools/test.py. A model that learns reaches COCO
box AP 0.5 or 60 mIoU there; one that does not (a layout bug, a backbone that did not
load, a broken head) stays near 0. Exits 1 below the target. --scale shrinks the input
sizes (the pipeline's resizes and crops, the slide window) for a CPU.

Examples:
    python tools/run_benchmark.py --preset full --smoke --only det ...   # data + backbone
    python tools/analysis_tools/overfit.py \\
        configs/det/mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py \\
        --pretrained WORK/ROW/seed_0/backbone.pth --data-root WORK/data/coco/ --iters 300
"""
import argparse
import glob
import json
import os.path as osp
import subprocess
import sys

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
sys.path.insert(0, ROOT)

from mmengine.config import Config  # noqa: E402

import mst_mm  # noqa: E402,F401
from mst_mm.benchmark.overfit import metric_and_target, overfit_options  # noqa: E402


def parse_args():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('config', help='a detection or segmentation config')
    parser.add_argument('--pretrained', required=True, help='the backbone to start from')
    parser.add_argument('--data-root', help="the dataset folder (default: the config's)")
    parser.add_argument('--images', type=int, default=2, help='training images (default 2)')
    parser.add_argument('--iters', type=int, default=300,
                        help='training iterations (default 300)')
    parser.add_argument('--scale', type=float, default=1.0,
                        help='input sizes times this (default 1: the real sizes)')
    parser.add_argument('--amp', choices=['fp16', 'bf16'], help='tools/train.py --amp')
    parser.add_argument('--work-dir', default='work_dirs/overfit')
    args = parser.parse_args()
    if args.images < 1 or args.iters < 1 or args.scale <= 0:
        parser.error('--images and --iters must be at least 1, --scale positive')
    return args


def main():
    args = parse_args()
    cfg = Config.fromfile(args.config)
    metric, target = metric_and_target(cfg)
    options = overfit_options(cfg, args.images, args.iters, args.data_root, args.scale)
    python = [sys.executable]
    train = python + [osp.join(ROOT, 'tools/train.py'), args.config, '--work-dir',
                      args.work_dir, '--no-resume', *(['--amp', args.amp] if args.amp else []),
                      '--cfg-options', f'pretrained={args.pretrained}', *options['train']]
    print(f'training on {args.images} images for {args.iters} iterations ...', flush=True)
    subprocess.run(train, check=True)
    checkpoint = osp.join(args.work_dir, 'last_checkpoint')
    with open(checkpoint) as f:
        checkpoint = f.read().strip()
    test_dir = osp.join(args.work_dir, 'test')
    subprocess.run(python + [osp.join(ROOT, 'tools/test.py'), args.config, checkpoint,
                             '--work-dir', test_dir, '--cfg-options', *options['test']],
                   check=True)
    results = sorted(glob.glob(osp.join(test_dir, '*', '*.json')))
    with open(results[-1]) as f:
        value = json.load(f)[metric]
    passed = value >= target
    print(f'{osp.basename(args.config)}: {metric} {value:.3f} on its {args.images} training '
          f'images after {args.iters} iterations (target {target:g}): '
          f'{"fits" if passed else "DOES NOT FIT"}')
    sys.exit(0 if passed else 1)


if __name__ == '__main__':
    main()
