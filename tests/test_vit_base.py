"""ViT-B/16 (768 wide, 12 blocks, 12 heads): pre-training and transfer configs that differ
from the ViT-S/16 ones only in the width, and checkpoints of one size refused by the other."""
import os.path as osp

import pytest
import timm
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import init_default_scope

from mmdet.registry import MODELS as DET_MODELS
from mmpretrain.registry import MODELS as PRETRAIN_MODELS
from mmseg.registry import MODELS as SEG_MODELS

import mst_mm  # noqa: F401
from mst_mm.engine import PretrainedBackboneCheckHook
from conftest import ROOT, run

CONFIGS = osp.join(ROOT, 'configs')


def without(cfg, *keys):
    """The config as a dict, without the dotted ``keys``."""
    cfg = cfg.to_dict()
    for key in keys:
        *path, last = key.split('.')
        node = cfg
        for part in path:
            node = node[part]
        node = node if isinstance(node, list) else [node]
        for item in node:
            item.pop(last, None)
    return cfg


@pytest.mark.parametrize('method', ['mst', 'dino'])
def test_the_vit_base_pretraining_differs_from_vit_small_only_in_the_width(method):
    small = Config.fromfile(osp.join(
        CONFIGS, 'pretrain', f'{method}_vit-small-p16_16xb64-coslr-100e_in1k.py'))
    base = Config.fromfile(osp.join(
        CONFIGS, 'pretrain', f'{method}_vit-base-p16_16xb64-coslr-100e_in1k.py'))
    width_keys = ('embed_dims', 'model.backbone.arch', 'model.head.in_channels')
    if method == 'mst':
        width_keys += ('model.decoder.in_channels', )
    assert without(base, *width_keys) == without(small, *width_keys)
    init_default_scope('mmpretrain')
    model = PRETRAIN_MODELS.build(base.model)
    vit = model.backbone
    assert (vit.embed_dims, vit.num_layers, vit.layers[0].attn.num_heads) == (768, 12, 12)
    head_input = next(m for m in model.head.modules() if isinstance(m, torch.nn.Linear))
    assert head_input.in_features == 768
    if method == 'mst':
        decoder_input = next(m for m in model.decoder.modules()
                             if isinstance(m, torch.nn.modules.conv._ConvNd))
        assert decoder_input.in_channels == 768 and model.mask_token.shape[-1] == 768
    else:
        assert model.decoder is None


TRANSFER = [
    ('det', 'mask-rcnn_vit-{}-p16-mst-100e_fpn_8xb2-1x_coco.py'),
    ('det', 'mask-rcnn_vit-{}-p16-dino-100e_fpn_8xb2-1x_coco.py'),
    ('det', 'mask-rcnn_vit-{}-p16-deit-sup-300e_fpn_8xb2-1x_coco.py'),
    ('seg', 'setr-pup_vit-{}-p16-mst-100e_8xb1-80k_cityscapes-768x768.py'),
    ('seg', 'setr-pup_vit-{}-p16-dino-100e_8xb1-80k_cityscapes-768x768.py'),
    ('seg', 'upernet_vit-{}-p16-mst-100e_8xb2-160k_ade20k-512x512.py'),
]
# What depends on the width, per config family.
WIDTH_KEYS = {
    'mask-rcnn': ('model.neck.in_channels', ),
    'setr-pup': ('model.decode_head.in_channels', 'model.auxiliary_head.in_channels'),
    'upernet': ('model.neck.in_channels', 'model.decode_head.in_channels',
                'model.auxiliary_head.in_channels'),
}


@pytest.mark.parametrize('task, name', TRANSFER)
def test_the_vit_base_transfer_configs_are_the_vit_small_ones_768_wide(task, name):
    small = Config.fromfile(osp.join(CONFIGS, task, name.format('small')))
    base = Config.fromfile(osp.join(CONFIGS, task, name.format('base')))
    keys = ('pretrained', 'embed_dims', 'model.backbone.arch', 'model.backbone.init_cfg',
            *WIDTH_KEYS[name.split('_')[0]])
    assert without(base, *keys) == without(small, *keys)
    assert base.model.backbone.arch == 'deit-base'
    assert 'vit-base-p16' in base.pretrained or 'deit-base-p16' in base.pretrained
    init_default_scope('mmdet' if task == 'det' else 'mmseg')
    model = (DET_MODELS if task == 'det' else SEG_MODELS).build(base.model)
    vit = model.backbone
    assert (vit.embed_dims, vit.num_layers, vit.layers[0].attn.num_heads) == (768, 12, 12)
    with torch.no_grad():
        feats = model.extract_feat(torch.randn(1, 3, 64, 64))
    if task == 'det':  # the pyramid that the FPN makes of the 768-wide maps
        assert [f.shape[1] for f in feats] == [256] * 5
    else:
        assert [f.shape[1] for f in feats] == [768] * 4


@pytest.fixture(scope='module')
def vit_base_checkpoint(tmp_path_factory):
    """A timm ViT-B/16 state dict, as DINO and timm release it."""
    torch.manual_seed(0)
    vit = timm.models.vision_transformer.VisionTransformer(
        patch_size=16, embed_dim=768, depth=12, num_heads=12, num_classes=0)
    path = tmp_path_factory.mktemp('vit_base') / 'vit_base.pth'
    torch.save(vit.state_dict(), path)
    return path


def test_the_converter_refuses_a_vit_base_for_a_vit_small_with_the_reason(
        vit_base_checkpoint, tmp_path):
    result, log = run('tools/model_converters/extract_backbone.py', vit_base_checkpoint,
                      tmp_path / 'out.pth', '--arch', 'deit-small')
    assert result.returncode == 1
    assert ('a ViT of 768 wide, 12 blocks, 16 px patches, but 384 wide, 12 blocks, 16 px '
            'patches was asked for') in log
    assert not (tmp_path / 'out.pth').exists()


def build_segmentor(config, checkpoint):
    cfg = Config.fromfile(osp.join(CONFIGS, 'seg', config))
    cfg.model.backbone.init_cfg.checkpoint = str(checkpoint)
    init_default_scope('mmseg')
    segmentor = SEG_MODELS.build(cfg.model)
    segmentor.init_weights()
    return segmentor


def test_the_load_check_refuses_a_vit_base_in_a_vit_small_config_with_the_reason(
        vit_base_checkpoint, tmp_path):
    backbone = tmp_path / 'vit_base_backbone.pth'
    result, log = run('tools/model_converters/extract_backbone.py', vit_base_checkpoint,
                      backbone, '--arch', 'deit-base')
    assert result.returncode == 0, log
    logger = MMLogger.get_current_instance()
    small = build_segmentor('upernet_vit-small-p16-mst-100e_8xb2-160k_ade20k-512x512.py',
                            backbone)
    with pytest.raises(RuntimeError, match=r'the file holds a ViT of 768 wide, 12 blocks, '
                       r"16 px patches, the config's backbone is 384 wide, 12 blocks"):
        PretrainedBackboneCheckHook().check(small.backbone, logger)
    # The ViT-B/16 config takes it whole.
    base = build_segmentor('upernet_vit-base-p16-mst-100e_8xb2-160k_ade20k-512x512.py',
                           backbone)
    result = PretrainedBackboneCheckHook().check(base.backbone, logger)
    assert len(result['loaded']) == len(base.backbone.state_dict()) == 148
