"""The COCO transfer with Cascade Mask R-CNN: the Mask R-CNN protocol, three stages."""
import json
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmdet.registry import MODELS

import mst_mm  # noqa: F401
from conftest import ROOT, run
from test_transfer_coco import coco_overrides

DET_CONFIGS = osp.join(ROOT, 'configs', 'det')
TOY_CASCADE = osp.join(DET_CONFIGS,
                       'cascade-mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py')
FULL_CASCADE = 'cascade-mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py'


def test_cascade_mask_rcnn_fine_tunes_from_the_extracted_backbone_and_reports_coco_ap(
        pretrained):
    work_dir = pretrained['root'] / 'cascade'
    overrides = coco_overrides(pretrained['data']['coco'])
    result, log = run('tools/train.py', TOY_CASCADE, '--work-dir', work_dir, '--cfg-options',
                      f'pretrained={pretrained["backbone"]}', 'train_cfg.max_epochs=1',
                      'train_dataloader.dataset.indices=8', 'param_scheduler.0.end=2',
                      'val_dataloader.dataset.indices=4', *overrides)
    assert result.returncode == 0, log[-3000:]
    assert 'Backbone: loaded 52/52 tensors' in log
    for stage in range(3):  # the three cascade stages are trained
        assert f's{stage}.loss_cls' in log and f's{stage}.loss_mask' in log
    result, log = run('tools/test.py', TOY_CASCADE, work_dir / 'epoch_1.pth', '--work-dir',
                      work_dir / 'test', '--cfg-options', *overrides,
                      'test_dataloader.dataset.indices=4')
    assert result.returncode == 0, log[-3000:]
    metrics = json.loads(sorted((work_dir / 'test').glob('*/*.json'))[-1].read_text())
    for key in ('coco/bbox_mAP', 'coco/segm_mAP'):
        assert 0.0 <= metrics[key] <= 1.0, (key, metrics)


@pytest.mark.parametrize('init', ['mst-toy', 'rand-init'])
def test_the_toy_cascade_configs_build_at_the_toy_widths(init):
    cfg = Config.fromfile(osp.join(
        DET_CONFIGS, f'cascade-mask-rcnn_vit-toy-p8-{init}_fpn_1xb4-8e_toy-coco.py'))
    init_default_scope('mmdet')
    detector = MODELS.build(cfg.model)
    assert detector.backbone.embed_dims == 96 and detector.roi_head.num_stages == 3
    for head in detector.roi_head.bbox_head:
        assert (head.in_channels, head.num_classes) == (64, 5)
    assert [s.sampler.num for s in cfg.model.train_cfg.rcnn] == [128] * 3
    if init == 'rand-init':  # DINO's ViT initialisation, no checkpoint
        assert cfg.model.backbone.init_cfg is None


CASCADE_CONFIGS = [
    FULL_CASCADE,
    'cascade-mask-rcnn_vit-small-p16-dino-100e_fpn_8xb2-1x_coco.py',
    'cascade-mask-rcnn_vit-small-p16-rand-init_fpn_8xb2-1x_coco.py',
    'cascade-mask-rcnn_vit-small-p16-deit-sup-300e_fpn_8xb2-1x_coco.py',
]


@pytest.mark.parametrize('config', CASCADE_CONFIGS)
def test_the_cascade_configs_build_three_stages_on_vit_small(config):
    cfg = Config.fromfile(osp.join(DET_CONFIGS, config))
    init_default_scope('mmdet')
    detector = MODELS.build(cfg.model)
    assert type(detector).__name__ == 'CascadeRCNN'
    assert detector.roi_head.num_stages == 3 and len(detector.roi_head.bbox_head) == 3
    assert detector.backbone.embed_dims == 384 and detector.backbone.num_layers == 12
    assert [type(n).__name__ for n in detector.neck] == ['ViTMultiScaleNeck', 'FPN']
    assert cfg.train_cfg.max_epochs == 12 and cfg.train_dataloader.batch_size == 2
    if 'rand-init' not in config:
        assert cfg.model.backbone.init_cfg == dict(type='Pretrained',
                                                   checkpoint=cfg.pretrained)


def test_cascade_is_the_mask_rcnn_protocol_with_the_cascade_heads():
    mask_rcnn = Config.fromfile(osp.join(
        DET_CONFIGS, 'mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py'))
    cascade = Config.fromfile(osp.join(DET_CONFIGS, FULL_CASCADE))
    for key in ('backbone', 'neck', 'data_preprocessor', 'rpn_head'):
        assert cascade.model[key] == mask_rcnn.model[key], key
    for key in ('optim_wrapper', 'param_scheduler', 'train_cfg', 'train_dataloader',
                'test_dataloader', 'test_evaluator', 'custom_hooks'):
        assert cascade[key] == mask_rcnn[key], key
    init_default_scope('mmdet')
    optim = build_optim_wrapper(MODELS.build(cascade.model), cascade.optim_wrapper)
    lrs = {g['param_name']: g['lr'] for g in optim.optimizer.param_groups}
    assert lrs['backbone.layers.0.attn.qkv.weight'] == pytest.approx(1e-4 * 0.75**12)
    assert lrs['roi_head.bbox_head.2.fc_cls.weight'] == pytest.approx(1e-4)
