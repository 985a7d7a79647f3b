#!/usr/bin/env python
"""Write the ViT backbone of a checkpoint in the format every transfer config loads.

Accepts, detected from the keys:
  - an MST or DINO-baseline pre-training checkpoint of this project (the teacher's ViT
    by default, as DINO and MST evaluate; --student for the other);
  - the official DINO release: a dict with 'teacher'/'student', or a plain state dict
    (keys blocks.N.attn.qkv, patch_embed.proj, possibly with module./backbone. prefixes);
  - a timm ViT state dict.
The projection head, the decoder and the [MASK] token are left out. The output is
{'state_dict': <mmpretrain VisionTransformer keys>, 'meta': {...}}, loaded by the det,
seg and linear configs with init_cfg=dict(type='Pretrained', checkpoint=OUT).

Every file is loaded weights-only. A file that is not a checkpoint, a checkpoint of
another kind (a detector, a segmentor) or a ViT of another size than --arch is refused.

Examples:
    python tools/model_converters/extract_backbone.py \\
        work_dirs/mst_vit-small-p16_16xb64-coslr-100e_in1k/epoch_100.pth \\
        checkpoints/mst_vit-small-p16_100e_backbone.pth --arch deit-small
    python tools/model_converters/extract_backbone.py dino_deitsmall16_pretrain.pth \\
        checkpoints/dino_vit-small-p16_backbone.pth --arch deit-small
"""
import argparse
import os
import os.path as osp
import sys

import torch

from mst_mm.models.vit_converters import CheckpointError, ViTShape, convert_to_backbone


def parse_arch(arch: str, patch_size: int) -> ViTShape:
    """'deit-small' (any mmpretrain VisionTransformer arch) or 'WIDTHxDEPTH'."""
    from mmpretrain.models import VisionTransformer
    if 'x' in arch and arch.replace('x', '').isdigit():
        width, depth = map(int, arch.split('x'))
        return ViTShape(width, depth, patch_size)
    zoo = VisionTransformer.arch_zoo
    key = next((k for k in zoo if arch in k.split('_') or arch == k), None)
    if key is None:
        raise SystemExit(f'unknown --arch {arch!r}: use WIDTHxDEPTH or one of '
                         f'{sorted({n for k in zoo for n in k.split("_")})}')
    return ViTShape(zoo[key]['embed_dims'], zoo[key]['num_layers'], patch_size)


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument('checkpoint', help='the checkpoint to read')
    parser.add_argument('out', help='where to write the backbone')
    parser.add_argument('--student', action='store_true',
                        help="take the student's ViT instead of the teacher's")
    parser.add_argument('--arch', help="refuse a ViT of another size: an mmpretrain arch "
                        "('deit-small') or WIDTHxDEPTH ('96x4')")
    parser.add_argument('--patch-size', type=int, default=16,
                        help='patch size that --arch implies (default 16)')
    args = parser.parse_args()

    arch = parse_arch(args.arch, args.patch_size) if args.arch else None
    try:
        state_dict, report = convert_to_backbone(args.checkpoint, student=args.student,
                                                 arch=arch)
    except CheckpointError as error:
        print(f'error: {error}', file=sys.stderr)
        sys.exit(1)
    print(report.summary())
    os.makedirs(osp.dirname(osp.abspath(args.out)), exist_ok=True)
    meta = dict(source=osp.abspath(args.checkpoint),
                part='student' if args.student else 'teacher',
                arch=str(arch) if arch else None)
    torch.save(dict(state_dict=state_dict, meta=meta), args.out)
    print(f'backbone with {len(state_dict)} tensors written to {args.out}')


if __name__ == '__main__':
    main()
