"""The COCO transfer: pre-train -> extract -> Mask R-CNN fine-tune -> COCO AP."""
import json
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmdet.registry import DATASETS, MODELS

import mst_mm  # noqa: F401
from mst_mm.engine import PretrainedBackboneCheckHook
from conftest import ROOT, run

DET_CONFIGS = osp.join(ROOT, 'configs', 'det')
TOY_DET = osp.join(DET_CONFIGS, 'mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py')
FULL_DET = osp.join(DET_CONFIGS, 'mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py')


def coco_overrides(coco_root):
    ann = osp.join(coco_root, 'annotations', 'instances_val2017.json')
    return [f'train_dataloader.dataset.data_root={coco_root}/',
            f'val_dataloader.dataset.data_root={coco_root}/',
            f'test_dataloader.dataset.data_root={coco_root}/',
            f'val_evaluator.ann_file={ann}', f'test_evaluator.ann_file={ann}',
            'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
            'test_dataloader.num_workers=0', 'default_hooks.logger.interval=1']


def test_mask_rcnn_fine_tunes_from_the_extracted_backbone_and_reports_coco_ap(pretrained):
    work_dir = pretrained['root'] / 'det'
    overrides = coco_overrides(pretrained['data']['coco'])
    result, log = run('tools/train.py', TOY_DET, '--work-dir', work_dir, '--cfg-options',
                      f'pretrained={pretrained["backbone"]}', 'train_cfg.max_epochs=1',
                      *overrides)
    assert result.returncode == 0, log[-3000:]
    assert 'Backbone: loaded 52/52 tensors' in log
    result, log = run('tools/test.py', TOY_DET, work_dir / 'epoch_1.pth', '--work-dir',
                      work_dir / 'test', '--cfg-options', *overrides)
    assert result.returncode == 0, log[-3000:]
    metrics_files = sorted((work_dir / 'test').glob('*/*.json'))
    metrics = json.loads(metrics_files[-1].read_text())
    for key in ('coco/bbox_mAP', 'coco/bbox_mAP_50', 'coco/segm_mAP', 'coco/segm_mAP_50'):
        assert 0.0 <= metrics[key] <= 1.0, (key, metrics)


def build_toy_detector(backbone_checkpoint, prefix=None):
    cfg = Config.fromfile(TOY_DET)
    init_default_scope('mmdet')
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=str(backbone_checkpoint),
                                       prefix=prefix)
    detector = MODELS.build(cfg.model)
    detector.init_weights()
    return detector


def test_the_loaded_backbone_equals_the_extracted_teacher(pretrained):
    detector = build_toy_detector(pretrained['backbone'])
    teacher = torch.load(pretrained['checkpoint'], map_location='cpu')['state_dict']
    for key, value in detector.backbone.state_dict().items():
        assert torch.equal(value, teacher[f'teacher.module.backbone.{key}']), key
    result = PretrainedBackboneCheckHook().check(detector.backbone,
                                                  MMLogger.get_current_instance())
    assert len(result['loaded']) == 52 and not result['missing']


@pytest.mark.parametrize('use_training_checkpoint, prefix', [(True, None), (False, 'backbone')])
def test_a_backbone_that_did_not_load_stops_with_an_error(pretrained, use_training_checkpoint,
                                                          prefix):
    path = pretrained['checkpoint'] if use_training_checkpoint else pretrained['backbone']
    # A prefix absent from the file already fails in mmengine's loader, naming the prefix;
    # a file whose keys do not match loads nothing and fails in the check.
    with pytest.raises((RuntimeError, AssertionError),
                       match='pre-trained backbone did not load|backbone. is not in'):
        detector = build_toy_detector(path, prefix=prefix)
        PretrainedBackboneCheckHook().check(detector.backbone, MMLogger.get_current_instance())


def test_training_from_an_unconverted_checkpoint_stops_before_the_first_iteration(pretrained):
    result, log = run('tools/train.py', TOY_DET, '--work-dir', pretrained['root'] / 'bad',
                      '--cfg-options', f'pretrained={pretrained["checkpoint"]}',
                      *coco_overrides(pretrained['data']['coco']))
    assert result.returncode != 0
    assert 'pre-trained backbone did not load' in log
    assert 'Epoch(train)' not in log


def test_the_full_size_config_builds_without_data_on_disk():
    cfg = Config.fromfile(FULL_DET)
    init_default_scope('mmdet')
    assert cfg.model.backbone.init_cfg == dict(type='Pretrained', checkpoint=cfg.pretrained)
    detector = MODELS.build(cfg.model)
    assert detector.backbone.embed_dims == 384 and detector.backbone.num_layers == 12
    feats = detector.extract_feat(torch.randn(1, 3, 256, 320))
    assert [f.shape[-1] for f in feats] == [80, 40, 20, 10, 5]  # strides 4 ... 64
    dataset_cfg = cfg.train_dataloader.dataset
    dataset = DATASETS.build(dict(dataset_cfg, lazy_init=True))
    assert dataset.ann_file.endswith('data/coco/annotations/instances_train2017.json')
    optim = build_optim_wrapper(detector, cfg.optim_wrapper)
    lrs = {g['param_name']: g['lr'] for g in optim.optimizer.param_groups}
    assert lrs['backbone.layers.0.attn.qkv.weight'] == pytest.approx(1e-4 * 0.75**12)
    assert lrs['backbone.layers.11.attn.qkv.weight'] == pytest.approx(1e-4 * 0.75)
    assert lrs['roi_head.bbox_head.fc_cls.weight'] == pytest.approx(1e-4)


def build_random_init_detector(config):
    """The detector of ``config`` from a random ViT, with BN for SyncBN (no process
    group here), in train mode."""
    cfg = Config.fromfile(config)
    init_default_scope('mmdet')
    cfg.model.backbone.init_cfg = None
    for neck in cfg.model.neck:
        if neck.get('norm_cfg', {}).get('type') == 'SyncBN':
            neck.norm_cfg = dict(type='BN')
    detector = MODELS.build(cfg.model)
    detector.train()
    return detector


@pytest.mark.parametrize('config', [TOY_DET, FULL_DET])
def test_the_pyramid_keeps_its_scale_when_the_block_features_grow(config):
    """The blocks' maps are taken before any final norm and grow in training; the FPN's
    norm keeps the maps the RoI heads read at unit scale (without it, the toy detector's
    RoI features reached std 490 and the box head's units died)."""
    detector = build_random_init_detector(config)
    size = 64 if config == TOY_DET else 128
    blocks = [100 * f for f in detector.backbone(torch.randn(2, 3, size, size))]
    with torch.no_grad():
        pyramid = detector.neck(blocks)
    for level in pyramid[:4]:  # the levels the RoI extractor reads
        assert level.std() < 5, float(level.std())


@pytest.mark.parametrize('config', [TOY_DET, FULL_DET])
def test_the_roi_heads_read_each_box_from_its_place_in_the_pyramid(config):
    """A ViT's maps are its tokens permuted to NCHW (the channels-last layout), which
    convolutions keep; mmcv's RoIAlign reads any input as NCHW-contiguous and silently
    returned features from the wrong places (the toy box head stayed at the prior). The
    RoI features must be those of the same pyramid laid out NCHW."""
    detector = build_random_init_detector(config)
    size = 64 if config == TOY_DET else 128
    with torch.no_grad():
        pyramid = detector.neck(detector.backbone(torch.randn(2, 3, size, size)))
        rois = torch.tensor([[0., 4., 6., 40., 30.], [1., 10., 2., 60., 50.],
                             [0., 20., 20., 28., 36.]])
        extractor = detector.roi_head.bbox_roi_extractor
        read = extractor(pyramid[:4], rois)
        expected = extractor([level.contiguous() for level in pyramid[:4]], rois)
    torch.testing.assert_close(read, expected)


def test_a_detector_without_a_detection_scores_0_ap_not_nothing(tmp_path):
    """mmdet's CocoMetric reports no metric when no image has a detection (the test
    exits 0 without a number, the table shows the run unfinished); the configs'
    CheckedCocoMetric scores it as 0 AP."""
    import numpy as np

    from mmdet.evaluation import CocoMetric
    from mmdet.registry import METRICS
    from mst_mm.datasets.toy import CLASSES, make_toy_data
    coco = make_toy_data(str(tmp_path / 'toy'), num_train=2, num_val=2, size=(64, 64))['coco']
    ann_file = osp.join(coco, 'annotations', 'instances_val2017.json')
    cfg = Config.fromfile(FULL_DET)
    assert cfg.test_evaluator.type == 'CheckedCocoMetric'
    metric = METRICS.build(dict(cfg.test_evaluator, ann_file=ann_file))
    metric.dataset_meta = dict(classes=CLASSES)
    nothing = [(dict(), dict(img_id=i, bboxes=np.zeros((0, 4)), scores=np.zeros(0),
                             labels=np.zeros(0, int), masks=[])) for i in (1, 2)]
    assert CocoMetric.compute_metrics(metric, nothing) == {}  # mmdet's own: nothing
    scores = metric.compute_metrics(nothing)
    assert scores['bbox_mAP'] == 0.0 and scores['segm_mAP'] == 0.0
    assert set(scores) == {f'{m}_{i}' for m in ('bbox', 'segm')
                           for i in ('mAP', 'mAP_50', 'mAP_75', 'mAP_s', 'mAP_m', 'mAP_l')}
