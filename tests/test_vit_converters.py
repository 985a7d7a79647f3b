"""Specification of the checkpoint conversion: foreign ViTs give the same features."""
import os.path as osp
import subprocess
import sys

import pytest
import timm
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmpretrain.models import VisionTransformer

import mst_mm  # noqa: F401
from mst_mm.models.vit_converters import CheckpointError, ViTShape, convert_to_backbone
from conftest import ROOT

TOOL = osp.join(ROOT, 'tools', 'model_converters', 'extract_backbone.py')
TOY_ARCH = dict(embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384)


def timm_vit():
    torch.manual_seed(0)
    return timm.models.vision_transformer.VisionTransformer(
        img_size=64, patch_size=8, embed_dim=96, depth=4, num_heads=3, num_classes=0).eval()


def mmpretrain_vit(state_dict):
    vit = VisionTransformer(arch=TOY_ARCH, img_size=64, patch_size=8, out_type='raw')
    vit.load_state_dict(state_dict, strict=True)
    vit.eval()
    return vit


def same_features(reference, state_dict):
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        expected = reference.forward_features(x)
        got = mmpretrain_vit(state_dict)(x)[-1]
    return torch.allclose(expected, got, atol=1e-5)


def run_tool(*args):
    return subprocess.run([sys.executable, TOOL, *map(str, args)], capture_output=True,
                          text=True, cwd=ROOT, timeout=300)


def test_a_timm_vit_converts_to_the_same_features(tmp_path):
    reference = timm_vit()
    path = tmp_path / 'timm.pth'
    torch.save(reference.state_dict(), path)
    state_dict, report = convert_to_backbone(str(path), arch=ViTShape(96, 4, 8))
    assert same_features(reference, state_dict)
    assert not report.missing and len(report.converted) == len(state_dict)


def test_the_dino_release_formats_convert_to_the_same_features(tmp_path):
    teacher, student = timm_vit(), timm_vit()
    with torch.no_grad():
        for p in student.parameters():
            p.add_(0.01)
    full = dict(
        teacher={f'backbone.{k}': v for k, v in teacher.state_dict().items()}
        | {'head.mlp.0.weight': torch.zeros(8, 96)},
        student={f'module.backbone.{k}': v for k, v in student.state_dict().items()},
        epoch=100)
    torch.save(full, tmp_path / 'full.pth')
    torch.save(teacher.state_dict(), tmp_path / 'plain.pth')
    state_dict, report = convert_to_backbone(str(tmp_path / 'full.pth'))
    assert same_features(teacher, state_dict)
    assert report.skipped == ['head.mlp.0.weight']
    state_dict, _ = convert_to_backbone(str(tmp_path / 'full.pth'), student=True)
    assert same_features(student, state_dict)
    state_dict, _ = convert_to_backbone(str(tmp_path / 'plain.pth'))
    assert same_features(teacher, state_dict)


def test_the_tool_writes_a_backbone_that_the_pretrained_init_loads(tmp_path):
    reference = timm_vit()
    torch.save({'model': None, 'state_dict': reference.state_dict()}, tmp_path / 'in.pth')
    result = run_tool(tmp_path / 'in.pth', tmp_path / 'out.pth', '--arch', '96x4',
                      '--patch-size', '8')
    assert result.returncode == 0, result.stderr
    assert '54 tensors converted, 0 skipped, 0 missing' in result.stdout
    vit = VisionTransformer(arch=TOY_ARCH, img_size=64, patch_size=8, out_type='raw',
                            init_cfg=dict(type='Pretrained', checkpoint=str(tmp_path / 'out.pth')))
    vit.init_weights()
    vit.eval()
    x = torch.randn(1, 3, 64, 64)
    with torch.no_grad():
        assert torch.allclose(vit(x)[-1], reference.forward_features(x), atol=1e-5)


def test_a_file_that_is_not_a_checkpoint_is_refused(tmp_path):
    (tmp_path / 'notes.pth').write_text('not a checkpoint')
    result = run_tool(tmp_path / 'notes.pth', tmp_path / 'out.pth')
    assert result.returncode == 1
    assert 'notes.pth: not a PyTorch checkpoint' in result.stderr
    assert not (tmp_path / 'out.pth').exists()


class Payload:
    """Unpickled by a full unpickler, it creates ``marker``."""

    def __init__(self, marker) -> None:
        self.marker = str(marker)

    def __reduce__(self):
        return (open, (self.marker, 'w'))


def test_a_pickle_that_would_run_code_is_refused(tmp_path, monkeypatch):
    import pickle
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')  # explicit weights-only wins
    marker = tmp_path / 'ran'
    with open(tmp_path / 'evil.pth', 'wb') as f:
        pickle.dump({'state_dict': Payload(marker)}, f, protocol=2)
    result = run_tool(tmp_path / 'evil.pth', tmp_path / 'out.pth')
    assert result.returncode == 1 and not marker.exists()
    assert result.stderr.strip() == (f'error: {tmp_path / "evil.pth"}: not a plain checkpoint, '
                                     'refused by weights-only loading (it would build '
                                     'io.open).')


def dino_training_checkpoint(teacher, student, args):
    """What DINO's main_dino.py saves as checkpoint.pth (and the released "full
    checkpoints"): both networks, the optimizer, the loss's center and the run's args."""
    head = {'head.mlp.0.weight': torch.zeros(8, 96), 'head.last_layer.weight_g': torch.ones(8, 1)}
    optimizer = torch.optim.AdamW(student.parameters(), lr=5e-4)
    return dict(
        student={f'module.backbone.{k}': v for k, v in student.state_dict().items()}
        | {f'module.{k}': v for k, v in head.items()},
        teacher={f'backbone.{k}': v for k, v in teacher.state_dict().items()} | head,
        optimizer=optimizer.state_dict(), epoch=100, args=args,
        dino_loss={'center': torch.zeros(1, 8)},
        fp16_scaler={'scale': 65536.0, 'growth_factor': 2.0, 'backoff_factor': 0.5,
                     'growth_interval': 2000, '_growth_tracker': 0})


def dino_args(**extra):
    import argparse
    return argparse.Namespace(arch='vit_small', patch_size=8, out_dim=65536, norm_last_layer=False,
                              momentum_teacher=0.996, use_fp16=True, lr=0.0005,
                              global_crops_scale=(0.4, 1.0), data_path='/path/to/imagenet/train',
                              dist_url='env://', rank=0, world_size=16, gpu=0, **extra)


def test_a_dino_training_checkpoint_with_its_args_converts(tmp_path):
    teacher, student = timm_vit(), timm_vit()
    with torch.no_grad():
        for p in student.parameters():
            p.add_(0.01)
    torch.save(dino_training_checkpoint(teacher, student, dino_args()), tmp_path / 'ckpt.pth')
    result = run_tool(tmp_path / 'ckpt.pth', tmp_path / 'out.pth', '--arch', '96x4',
                      '--patch-size', '8')
    assert result.returncode == 0, result.stderr
    assert '54 tensors converted, 2 skipped, 0 missing' in result.stdout
    assert same_features(teacher, torch.load(tmp_path / 'out.pth')['state_dict'])
    state_dict, _ = convert_to_backbone(str(tmp_path / 'ckpt.pth'), student=True)
    assert same_features(student, state_dict)


def test_args_carry_no_code_through(tmp_path, monkeypatch):
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    marker = tmp_path / 'ran'
    torch.save(dino_training_checkpoint(timm_vit(), timm_vit(), dino_args(hook=Payload(marker))),
               tmp_path / 'ckpt.pth')
    with pytest.raises(CheckpointError, match='not a plain checkpoint.*io.open'):
        convert_to_backbone(str(tmp_path / 'ckpt.pth'))
    assert not marker.exists()


def test_a_backbone_with_non_finite_weights_is_refused_naming_them(tmp_path):
    state_dict = timm_vit().state_dict()
    state_dict['blocks.2.attn.qkv.weight'][0, 0] = float('nan')
    state_dict['pos_embed'][0, 0, 0] = float('inf')
    torch.save(state_dict, tmp_path / 'diverged.pth')
    with pytest.raises(CheckpointError, match=r'diverged.pth: 2 of 54 tensors hold NaN or '
                                              r'infinite values \(pos_embed, '
                                              r'layers.2.attn.qkv.weight\)'):
        convert_to_backbone(str(tmp_path / 'diverged.pth'))


def test_a_mask_rcnn_checkpoint_is_refused_as_such(tmp_path):
    from mmdet.registry import MODELS as DET_MODELS
    cfg = Config.fromfile(osp.join(ROOT, 'configs', 'det',
                                   'mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py'))
    init_default_scope('mmdet')
    detector = DET_MODELS.build(cfg.model)
    torch.save({'state_dict': detector.state_dict(), 'meta': {}}, tmp_path / 'det.pth')
    result = run_tool(tmp_path / 'det.pth', tmp_path / 'out.pth')
    assert result.returncode == 1
    assert 'detector' in result.stderr and 'not a ViT pre-training checkpoint' in result.stderr


def test_a_vit_of_another_size_is_refused(tmp_path):
    torch.save(timm_vit().state_dict(), tmp_path / 'toy.pth')
    with pytest.raises(CheckpointError, match='96 wide, 4 blocks, 8 px patches, but 384 wide'):
        convert_to_backbone(str(tmp_path / 'toy.pth'), arch=ViTShape(384, 12, 16))
    result = run_tool(tmp_path / 'toy.pth', tmp_path / 'out.pth', '--arch', 'deit-small')
    assert result.returncode == 1 and 'was asked for' in result.stderr
