"""Checkpoint filters: any ViT checkpoint -> an mmpretrain ``VisionTransformer`` state dict.

Every det, seg and linear-evaluation config loads its backbone from one format: a file
``{'state_dict': <mmpretrain VisionTransformer keys>, 'meta': {...}}``. These functions
produce it from an MST (or DINO-baseline) training checkpoint of this project, from the
official DINO release (and DINO's own training checkpoints), and from timm, and say what
they converted, skipped and missed. Every file is loaded weights-only; a backbone with a
NaN or an infinity is refused.
"""
import argparse
import re
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

import torch

from ..safe_load import CheckpointFileError, load_weights_only

Tensor = torch.Tensor
StateDict = Dict[str, Tensor]


class CheckpointError(ValueError):
    """A file that cannot be turned into a ViT backbone, with the reason."""


@dataclass
class ConversionReport:
    """What a conversion did: for the tools to print and the tests to check."""
    source: str
    converted: List[str] = field(default_factory=list)
    skipped: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)

    def summary(self) -> str:
        lines = [f'{self.source}: {len(self.converted)} tensors converted, '
                 f'{len(self.skipped)} skipped, {len(self.missing)} missing']
        if self.skipped:
            lines.append('  skipped: ' + ', '.join(_abbreviate(self.skipped)))
        if self.missing:
            lines.append('  missing: ' + ', '.join(_abbreviate(self.missing)))
        return '\n'.join(lines)


def _abbreviate(keys: List[str], limit: int = 12) -> List[str]:
    return keys[:limit] + ([f'... ({len(keys) - limit} more)'] if len(keys) > limit else [])


# DINO's training checkpoints (main_dino.py's checkpoint.pth, the released "full
# checkpoints") store the run's argparse.Namespace of plain values beside the weights.
# Building one runs no code: it is the only class allowed beyond tensors and data.
DINO_CHECKPOINT_CLASSES = (argparse.Namespace,)


def load_checkpoint_file(path: str, allowed=()) -> dict:
    """Load a checkpoint weights-only (it is an untrusted pickle), with clear errors.

    Args:
        path (str): The file.
        allowed (Sequence[type]): Classes allowed for this load only.
    """
    try:
        checkpoint = load_weights_only(path, allowed=allowed)
    except FileNotFoundError:
        raise CheckpointError(f'{path}: no such file.') from None
    except CheckpointFileError as error:
        raise CheckpointError(str(error)) from None
    if not isinstance(checkpoint, dict):
        raise CheckpointError(f'{path}: holds a {type(checkpoint).__name__}, '
                              'not a dict of tensors.')
    return checkpoint


def check_finite(state_dict: StateDict, source: str) -> None:
    """Refuse weights with a NaN or an infinity (a diverged run), naming them."""
    bad = [k for k, v in state_dict.items()
           if torch.is_tensor(v) and v.is_floating_point()
           and not bool(torch.isfinite(v).all())]
    if bad:
        raise CheckpointError(f'{source}: {len(bad)} of {len(state_dict)} tensors hold NaN '
                              f'or infinite values ({", ".join(_abbreviate(bad, 8))}): '
                              'the run that wrote it diverged.')


# -- what a ViT looks like -----------------------------------------------------------

# mmpretrain VisionTransformer key <- timm / DINO key, per block.
_BLOCK_KEYS = {
    'ln1': 'norm1', 'attn.qkv': 'attn.qkv', 'attn.proj': 'attn.proj', 'ln2': 'norm2',
    'ffn.layers.0.0': 'mlp.fc1', 'ffn.layers.1': 'mlp.fc2',
}
_STEM_KEYS = {
    'cls_token': 'cls_token', 'pos_embed': 'pos_embed',
    'patch_embed.projection.weight': 'patch_embed.proj.weight',
    'patch_embed.projection.bias': 'patch_embed.proj.bias',
    'ln1.weight': 'norm.weight', 'ln1.bias': 'norm.bias',
}


@dataclass
class ViTShape:
    embed_dims: int
    num_layers: int
    patch_size: int

    def __str__(self) -> str:
        return (f'{self.embed_dims} wide, {self.num_layers} blocks, '
                f'{self.patch_size} px patches')


def mmpretrain_vit_shape(state_dict: StateDict) -> ViTShape:
    """Width, depth and patch size of an mmpretrain ViT state dict."""
    if 'patch_embed.projection.weight' not in state_dict:
        raise CheckpointError('no patch embedding: this is not a ViT state dict.')
    proj = state_dict['patch_embed.projection.weight']
    blocks = {int(m.group(1)) for k in state_dict
              if (m := re.match(r'layers\.(\d+)\.', k))}
    return ViTShape(embed_dims=proj.shape[0], num_layers=len(blocks),
                    patch_size=proj.shape[-1])


def check_vit_shape(state_dict: StateDict, expected: Optional[ViTShape], source: str) -> None:
    """Refuse a ViT of another size than the one asked for."""
    if expected is None:
        return
    found = mmpretrain_vit_shape(state_dict)
    if found != expected:
        raise CheckpointError(f'{source}: a ViT of {found}, but {expected} was asked for.')


# -- the formats ---------------------------------------------------------------------

def _strip_prefixes(state_dict: StateDict, prefixes=('module.', 'backbone.')) -> StateDict:
    out = {}
    for key, value in state_dict.items():
        changed = True
        while changed:
            changed = False
            for prefix in prefixes:
                if key.startswith(prefix):
                    key, changed = key[len(prefix):], True
        out[key] = value
    return out


def timm_to_mmpretrain(state_dict: StateDict, source: str) -> Tuple[StateDict, ConversionReport]:
    """timm / DINO ViT keys (``blocks.N.attn.qkv``, ``patch_embed.proj``) -> mmpretrain."""
    state_dict = _strip_prefixes(state_dict)
    report = ConversionReport(source)
    converted = {}
    wanted = {timm_key: mm_key for mm_key, timm_key in _STEM_KEYS.items()}
    for key, value in state_dict.items():
        block = re.match(r'blocks\.(\d+)\.(.+)\.(weight|bias)$', key)
        mm_key = None
        if key in wanted:
            mm_key = wanted[key]
        elif block:
            index, name, kind = block.groups()
            mm_name = next((mm for mm, tm in _BLOCK_KEYS.items() if tm == name), None)
            if mm_name is not None:
                mm_key = f'layers.{index}.{mm_name}.{kind}'
        if mm_key is None:
            report.skipped.append(key)
        else:
            converted[mm_key] = value
            report.converted.append(key)
    if not converted:
        raise CheckpointError(f'{source}: no ViT tensors (blocks.N.attn.qkv, patch_embed.proj) '
                              'found; is this a ViT checkpoint?')
    num_layers = mmpretrain_vit_shape(converted).num_layers
    expected = list(_STEM_KEYS) + [f'layers.{i}.{name}.{kind}' for i in range(num_layers)
                                   for name in _BLOCK_KEYS for kind in ('weight', 'bias')]
    report.missing = [k for k in expected if k not in converted]
    return converted, report


def mst_to_backbone(checkpoint: dict, source: str, student: bool = False
                    ) -> Tuple[StateDict, ConversionReport]:
    """The teacher's (default) or the student's ViT of an MST / DINO-baseline checkpoint."""
    state_dict = checkpoint.get('state_dict', checkpoint)
    prefix = 'backbone.' if student else 'teacher.module.backbone.'
    report = ConversionReport(source)
    backbone = {}
    for key, value in state_dict.items():
        if key.startswith(prefix):
            backbone[key[len(prefix):]] = value
            report.converted.append(key)
        else:
            report.skipped.append(key)
    if not backbone:
        raise CheckpointError(f'{source}: no {prefix}* tensors: not an MST pre-training '
                              'checkpoint.')
    return backbone, report


def _weights(checkpoint: dict) -> dict:
    """The state dict of a checkpoint: under 'state_dict' (mmengine), under 'model' (the
    released DeiT files, ``{'model': ...}``), or the checkpoint itself."""
    if 'state_dict' in checkpoint:
        return checkpoint['state_dict']
    if isinstance(checkpoint.get('model'), dict):
        return checkpoint['model']
    return checkpoint


def detect_format(checkpoint: dict) -> str:
    """'mst', 'dino' (release with teacher/student), 'timm' (plain ViT state dict, or
    DeiT's ``{'model': ...}``), or a refusal naming what the file is instead."""
    state_dict = _weights(checkpoint)
    keys = list(state_dict) if isinstance(state_dict, dict) else []
    if any(k.startswith('teacher.module.backbone.') for k in keys):
        return 'mst'
    if 'teacher' in checkpoint and isinstance(checkpoint['teacher'], dict):
        return 'dino'
    if any(re.match(r'(module\.|backbone\.)*blocks\.\d+\.attn\.qkv\.', k) for k in keys):
        return 'timm'
    if any(k.startswith('layers.') and '.attn.qkv.' in k for k in keys):
        return 'mmpretrain'
    hints = [('rpn_head.', 'a detector (Mask R-CNN / RPN)'),
             ('roi_head.', 'a detector (Mask R-CNN)'),
             ('decode_head.', 'a segmentor'),
             ('backbone.layer1.', 'a ResNet-based model'),
             ('backbone.layers.', 'a fine-tuned model with an mmpretrain backbone')]
    for key_prefix, what in hints:
        if any(k.startswith(key_prefix) for k in keys):
            raise CheckpointError(f'this is a checkpoint of {what} (keys {key_prefix}*), '
                                  'not a ViT pre-training checkpoint.')
    raise CheckpointError('no ViT weights found (expected MST teacher.module.backbone.*, '
                          'DINO/timm blocks.N.attn.qkv.* or mmpretrain layers.N.attn.qkv.*); '
                          f'first keys: {keys[:5]}')


def convert_to_backbone(path: str, student: bool = False, teacher_key: str = 'teacher',
                        arch: Optional[ViTShape] = None) -> Tuple[StateDict, ConversionReport]:
    """Load any supported ViT checkpoint and return mmpretrain backbone weights."""
    checkpoint = load_checkpoint_file(path, allowed=DINO_CHECKPOINT_CLASSES)
    kind = detect_format(checkpoint)
    if kind == 'mst':
        state_dict, report = mst_to_backbone(checkpoint, path, student)
    elif kind == 'dino':
        part = 'student' if student else teacher_key
        state_dict, report = timm_to_mmpretrain(checkpoint[part], f'{path} [{part}]')
    elif kind == 'timm':
        state_dict, report = timm_to_mmpretrain(_weights(checkpoint), path)
    else:  # already mmpretrain keys
        state_dict = _strip_prefixes(_weights(checkpoint))
        report = ConversionReport(path, converted=list(state_dict))
    check_vit_shape(state_dict, arch, path)
    check_finite(state_dict, path)
    return {k: v.contiguous() for k, v in state_dict.items()}, report
