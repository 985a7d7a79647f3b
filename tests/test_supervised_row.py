"""The supervised row: a timm DeiT state dict, converted, is the backbone of the transfer
configs (given with pretrained=), and the benchmark runner adds it as a row."""
import os.path as osp

import pytest
import timm
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from mmdet.registry import MODELS as DET_MODELS
from mmseg.registry import MODELS as SEG_MODELS

import mst_mm  # noqa: F401
from mst_mm.engine import PretrainedBackboneCheckHook
from mst_mm.engine.training import set_pretrained
from conftest import ROOT, run

CONFIGS = osp.join(ROOT, 'configs')
TOY_TRANSFER = [
    'det/mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py',
    'det/cascade-mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py',
    'seg/setr-pup_vit-toy-p8-mst-toy_1xb4-1k_toy-cityscapes.py',
    'seg/upernet_vit-toy-p8-mst-toy_1xb4-1k_toy-ade20k.py',
]


@pytest.fixture(scope='module')
def supervised_backbone(tmp_path_factory):
    """A supervised toy DeiT (timm, with its classifier head) and its converted backbone."""
    root = tmp_path_factory.mktemp('supervised')
    torch.manual_seed(0)
    deit = timm.models.vision_transformer.VisionTransformer(
        img_size=64, patch_size=8, embed_dim=96, depth=4, num_heads=3, num_classes=5)
    torch.save(deit.state_dict(), root / 'deit.pth')
    result, log = run('tools/model_converters/extract_backbone.py', root / 'deit.pth',
                      root / 'backbone.pth', '--arch', '96x4', '--patch-size', '8')
    assert result.returncode == 0, log
    assert 'skipped: head.weight, head.bias' in log  # the ImageNet classifier
    return dict(deit=deit, timm=root / 'deit.pth', backbone=root / 'backbone.pth')


def test_a_released_deit_file_converts_as_its_state_dict(supervised_backbone, tmp_path):
    """DeiT's released checkpoints hold the weights under 'model'."""
    released = tmp_path / 'deit_release.pth'
    torch.save({'model': supervised_backbone['deit'].state_dict()}, released)
    result, log = run('tools/model_converters/extract_backbone.py', released,
                      tmp_path / 'backbone.pth', '--arch', '96x4', '--patch-size', '8')
    assert result.returncode == 0, log
    expected = torch.load(supervised_backbone['backbone'], weights_only=True)
    converted = torch.load(tmp_path / 'backbone.pth', weights_only=True)
    assert converted['state_dict'].keys() == expected['state_dict'].keys()
    assert all(torch.equal(converted['state_dict'][k], v)
               for k, v in expected['state_dict'].items())


@pytest.mark.parametrize('config', TOY_TRANSFER)
def test_the_transfer_configs_take_the_supervised_vit_with_pretrained(config,
                                                                      supervised_backbone):
    cfg = Config.fromfile(osp.join(CONFIGS, config))
    # What `tools/train.py CONFIG --cfg-options pretrained=...` does.
    set_pretrained(cfg, str(supervised_backbone['backbone']))
    init_default_scope(cfg.default_scope)
    model = (DET_MODELS if cfg.default_scope == 'mmdet' else SEG_MODELS).build(cfg.model)
    model.init_weights()
    result = PretrainedBackboneCheckHook().check(model.backbone,
                                                 MMLogger.get_current_instance())
    assert len(result['loaded']) == 52 and not result['missing']
    # The transformer blocks are the DeiT's.
    deit = supervised_backbone['deit'].state_dict()
    assert torch.equal(model.backbone.layers[3].attn.qkv.weight,
                       deit['blocks.3.attn.qkv.weight'])


SUPERVISED = [
    'det/mask-rcnn_vit-small-p16-deit-sup-300e_fpn_8xb2-1x_coco.py',
    'det/cascade-mask-rcnn_vit-small-p16-deit-sup-300e_fpn_8xb2-1x_coco.py',
    'det/mask-rcnn_vit-base-p16-deit-sup-300e_fpn_8xb2-1x_coco.py',
    'seg/setr-pup_vit-small-p16-deit-sup-300e_8xb1-80k_cityscapes-768x768.py',
    'seg/upernet_vit-small-p16-deit-sup-300e_8xb2-160k_ade20k-512x512.py',
    'seg/upernet_vit-base-p16-deit-sup-300e_8xb2-160k_ade20k-512x512.py',
]


@pytest.mark.parametrize('config', SUPERVISED)
def test_the_supervised_configs_are_the_mst_ones_from_a_deit_of_their_size(config):
    cfg = Config.fromfile(osp.join(CONFIGS, config))
    mst = Config.fromfile(osp.join(CONFIGS, config.replace('deit-sup-300e', 'mst-100e')))
    size = 'base' if 'vit-base' in config else 'small'
    assert cfg.model.backbone.arch == mst.model.backbone.arch == f'deit-{size}'
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint=cfg.pretrained)
    assert osp.basename(cfg.pretrained).startswith(f'deit-{size}-p16')
    for c in (cfg, mst):
        c.model.backbone.pop('init_cfg')
        c.pop('pretrained')
    assert cfg.to_dict() == mst.to_dict()
    init_default_scope(cfg.default_scope)
    model = (DET_MODELS if cfg.default_scope == 'mmdet' else SEG_MODELS).build(cfg.model)
    assert model.backbone.embed_dims == (768 if size == 'base' else 384)
