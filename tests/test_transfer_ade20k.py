"""The ADE20K transfer: pre-train -> extract -> UperNet fine-tune -> mIoU, single-scale
and multi-scale + flip; the checked ADE20K dataset; the full-size configs."""
import json
import os
import os.path as osp
import re
import shutil

import cv2
import numpy as np
import pytest
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import init_default_scope

from mmseg.registry import DATASETS, MODELS

import mst_mm  # noqa: F401
from mst_mm.datasets import toy as toy_data
from conftest import ROOT, run

SEG_CONFIGS = osp.join(ROOT, 'configs', 'seg')
TOY_ADE = osp.join(SEG_CONFIGS, 'upernet_vit-toy-p8-mst-toy_1xb4-1k_toy-ade20k.py')
TOY_ADE_TTA = osp.join(SEG_CONFIGS, 'upernet_vit-toy-p8_toy-ade20k_ms-flip-test.py')
FULL_ADE = 'upernet_vit-small-p16-mst-100e_8xb2-160k_ade20k-512x512.py'


def ade_overrides(ade_root):
    return [f'train_dataloader.dataset.data_root={ade_root}/',
            f'val_dataloader.dataset.data_root={ade_root}/',
            f'test_dataloader.dataset.data_root={ade_root}/',
            'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
            'test_dataloader.num_workers=0', 'default_hooks.logger.interval=5']


def test_upernet_fine_tunes_on_toy_ade20k_and_tests_single_and_multi_scale(pretrained):
    work_dir = pretrained['root'] / 'ade'
    overrides = ade_overrides(pretrained['data']['ade20k'])
    result, log = run('tools/train.py', TOY_ADE, '--work-dir', work_dir, '--cfg-options',
                      f'pretrained={pretrained["backbone"]}', 'train_cfg.max_iters=21',
                      'train_cfg.val_interval=21', 'default_hooks.checkpoint.interval=21',
                      *overrides)
    assert result.returncode == 0, log[-3000:]
    assert 'Backbone: loaded 52/52 tensors' in log
    # The validation at the end: mmseg's IoUMetric over the 5 shape classes, the
    # background being "other" (ignored) as in ADE20K.
    for name in toy_data.CLASSES:
        assert re.search(rf'\|\s*{name}\s*\|\s*[\d.]+\s*\|', log), f'no IoU row for {name}'
    assert not re.search(r'\|\s*background\s*\|', log)
    for config, test_dir in ((TOY_ADE, 'single'), (TOY_ADE_TTA, 'ms-flip')):
        result, log = run('tools/test.py', config, work_dir / 'iter_21.pth', '--work-dir',
                          work_dir / test_dir, '--cfg-options', *overrides,
                          'test_dataloader.dataset.indices=2')
        assert result.returncode == 0, log[-3000:]
        metrics = json.loads(sorted((work_dir / test_dir).glob('*/*.json'))[-1].read_text())
        assert 0.0 <= metrics['mIoU'] <= 100.0


# -- the toy data and the checked dataset ----------------------------------------------

@pytest.fixture
def toy(tmp_path):
    return toy_data.make_toy_data(str(tmp_path / 'toy'), num_train=4, num_val=2,
                                  size=(64, 32))


def build_toy_ade(root, split='training', pipeline=()):
    init_default_scope('mmseg')
    return DATASETS.build(dict(
        type='ToyADE20KDataset', data_root=root,
        data_prefix=dict(img_path=f'images/{split}', seg_map_path=f'annotations/{split}'),
        pipeline=list(pipeline)))


LOAD_LABELS = [dict(type='LoadImageFromFile'), dict(type='LoadAnnotations'),
               dict(type='PackSegInputs')]


def test_toy_ade20k_holds_the_coco_and_cityscapes_scenes_with_reduced_labels(toy):
    ade, coco, cityscapes = (osp.join(toy[k]) for k in ('ade20k', 'coco', 'cityscapes'))
    dataset = build_toy_ade(ade, 'training', LOAD_LABELS)
    assert len(dataset) == 4 and dataset.reduce_zero_label
    for index in range(4):
        name = f'ADE_train_{index + 1:08d}'
        # The very JPEG of the COCO copy.
        with open(osp.join(ade, 'images', 'training', name + '.jpg'), 'rb') as f, \
                open(osp.join(coco, 'train2017', f'train_{index:06d}.jpg'), 'rb') as g:
            assert f.read() == g.read()
        # Stored labels: 0 background ("other"), k + 1 shape k: the Cityscapes train ids.
        stored = cv2.imread(osp.join(ade, 'annotations', 'training', name + '.png'),
                            cv2.IMREAD_UNCHANGED)
        city = toy_data.CITIES['train'][index % 2]
        train_ids = cv2.imread(osp.join(cityscapes, 'gtFine', 'train', city,
                                        f'{city}_000000_{index:06d}_gtFine_labelTrainIds.png'),
                               cv2.IMREAD_UNCHANGED)
        assert stored.dtype == np.uint8 and (stored == train_ids).all()
        # What mmseg trains on: the background ignored (255), shape k as class k.
        loaded = dataset[index]['data_samples'].gt_sem_seg.data[0].numpy()
        assert (loaded[stored == 0] == 255).all()
        assert (loaded[stored > 0] == stored[stored > 0] - 1).all()


def test_toy_ade20k_classes_are_the_toy_data_classes():
    assert DATASETS.get('ToyADE20KDataset').METAINFO['classes'] == toy_data.CLASSES


def test_an_ade20k_folder_without_annotations_is_refused_naming_it(toy):
    shutil.rmtree(osp.join(toy['ade20k'], 'annotations'))
    with pytest.raises(FileNotFoundError, match='annotations/training does not exist'):
        build_toy_ade(toy['ade20k'])


def test_an_image_without_its_annotation_is_refused_naming_it(toy):
    os.remove(osp.join(toy['ade20k'], 'annotations', 'validation', 'ADE_val_00000002.png'))
    with pytest.raises(FileNotFoundError,
                       match='1 of 2 images have no annotation file.*ADE_val_00000002.png'):
        build_toy_ade(toy['ade20k'], 'validation')


def test_a_label_outside_the_class_range_is_refused_naming_the_file(toy):
    path = osp.join(toy['ade20k'], 'annotations', 'training', 'ADE_train_00000003.png')
    labels = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    labels[:4, :4] = 6  # 5 classes: the stored labels are 0 ("other") and 1..5
    cv2.imwrite(path, labels)
    dataset = build_toy_ade(toy['ade20k'], 'training', LOAD_LABELS)
    dataset[1]  # the others load
    with pytest.raises(ValueError, match=r'ADE_train_00000003.png: label 6 is outside the '
                       r'class range 1\.\.5'):
        dataset[2]
    # Also when a test-time-augmentation pipeline loads it.
    tta = Config.fromfile(TOY_ADE_TTA).test_dataloader.dataset.pipeline
    with pytest.raises(ValueError, match='ADE_train_00000003.png: label 6'):
        build_toy_ade(toy['ade20k'], 'training', tta)[2]


def test_the_ignored_labels_0_and_255_are_accepted(toy):
    path = osp.join(toy['ade20k'], 'annotations', 'training', 'ADE_train_00000001.png')
    labels = cv2.imread(path, cv2.IMREAD_UNCHANGED)
    labels[:4, :4] = 255
    cv2.imwrite(path, labels)
    loaded = build_toy_ade(toy['ade20k'], 'training', LOAD_LABELS)[0]
    assert set(np.unique(loaded['data_samples'].gt_sem_seg.data.numpy())) <= {
        0, 1, 2, 3, 4, 255}


@pytest.mark.parametrize('config', ['upernet_vit-toy-p8-mst-toy_1xb4-1k_toy-ade20k.py',
                                    'upernet_vit-toy-p8-rand-init_1xb4-1k_toy-ade20k.py',
                                    'upernet_vit-toy-p8_toy-ade20k_ms-flip-test.py'])
def test_the_toy_ade20k_configs_build_at_the_toy_widths(config):
    cfg = Config.fromfile(osp.join(SEG_CONFIGS, config))
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    segmentor = getattr(model, 'module', model)  # the multi-scale + flip wrapper
    assert segmentor.backbone.embed_dims == 96
    assert segmentor.decode_head.num_classes == len(toy_data.CLASSES)
    assert cfg.test_dataloader.dataset.type == 'ToyADE20KDataset'
    assert cfg.test_dataloader.dataset.data_root == 'data/toy/ade20k/'


# -- the full-size configs ---------------------------------------------------------------

ADE_CONFIGS = [
    FULL_ADE,
    'upernet_vit-small-p16-dino-100e_8xb2-160k_ade20k-512x512.py',
    'upernet_vit-small-p16-rand-init_8xb2-160k_ade20k-512x512.py',
    'upernet_vit-small-p16-deit-sup-300e_8xb2-160k_ade20k-512x512.py',
    'upernet_vit-base-p16-mst-100e_8xb2-160k_ade20k-512x512.py',
    'upernet_vit-base-p16-dino-100e_8xb2-160k_ade20k-512x512.py',
    'upernet_vit-base-p16-rand-init_8xb2-160k_ade20k-512x512.py',
    'upernet_vit-base-p16-deit-sup-300e_8xb2-160k_ade20k-512x512.py',
]


def vit_size(config):
    """(width, depth, heads) that a config's name promises."""
    return (768, 12, 12) if 'vit-base-p16' in config else (384, 12, 6)


@pytest.mark.parametrize('config', ADE_CONFIGS)
def test_the_ade20k_configs_build_the_160k_512x512_upernet(config):
    cfg = Config.fromfile(osp.join(SEG_CONFIGS, config))
    init_default_scope('mmseg')
    segmentor = MODELS.build(cfg.model)
    width, depth, heads = vit_size(config)
    vit = segmentor.backbone
    assert (vit.embed_dims, vit.num_layers, vit.layers[0].attn.num_heads) == (width, depth,
                                                                             heads)
    assert type(segmentor.neck).__name__ == 'ViTMultiScaleNeck'
    assert segmentor.decode_head.in_channels == [width] * 4
    assert segmentor.decode_head.num_classes == segmentor.auxiliary_head.num_classes == 150
    assert cfg.model.test_cfg == dict(mode='slide', crop_size=(512, 512), stride=(341, 341))
    assert cfg.train_cfg.max_iters == 160000 and cfg.train_dataloader.batch_size == 2
    crop = next(t for t in cfg.train_pipeline if t.type == 'RandomCrop')
    assert crop.crop_size == (512, 512)
    dataset = DATASETS.build(dict(cfg.train_dataloader.dataset, lazy_init=True))
    assert type(dataset).__name__ == 'CheckedADE20KDataset' and dataset.reduce_zero_label
    assert dataset.data_root == 'data/ade/ADEChallengeData2016'
    assert cfg.test_evaluator.type == 'IoUMetric'
    if 'rand-init' in config:  # DINO's ViT initialisation, no checkpoint
        assert cfg.model.backbone.init_cfg is None
        assert cfg.model.backbone.type == 'mmpretrain.DINOVisionTransformer'
    else:
        assert cfg.model.backbone.init_cfg == dict(type='Pretrained',
                                                   checkpoint=cfg.pretrained)


@pytest.mark.parametrize('config', ADE_CONFIGS[1:4] + ADE_CONFIGS[5:])
def test_the_ade20k_variants_differ_from_mst_only_in_the_backbone_init(config):
    mst = 'upernet_vit-base-p16-mst' if 'vit-base' in config else 'upernet_vit-small-p16-mst'
    mst = Config.fromfile(osp.join(SEG_CONFIGS, mst + '-100e_8xb2-160k_ade20k-512x512.py'))
    cfg = Config.fromfile(osp.join(SEG_CONFIGS, config))
    for c in (mst, cfg):
        c.model.backbone.pop('init_cfg')
        c.pop('pretrained')
    assert cfg.to_dict() == mst.to_dict()


def test_the_ade20k_schedule_decays_the_lr_by_layer():
    cfg = Config.fromfile(osp.join(SEG_CONFIGS, FULL_ADE))
    init_default_scope('mmseg')
    segmentor = MODELS.build(cfg.model)
    optim = build_optim_wrapper(segmentor, cfg.optim_wrapper)
    lrs = {g['param_name']: g['lr'] for g in optim.optimizer.param_groups}
    assert lrs['backbone.layers.0.attn.qkv.weight'] == pytest.approx(1e-4 * 0.65**12)
    assert lrs['backbone.layers.11.attn.qkv.weight'] == pytest.approx(1e-4 * 0.65)
    assert lrs['decode_head.conv_seg.weight'] == pytest.approx(1e-4)


@pytest.mark.parametrize('size', ['small', 'base'])
def test_the_multi_scale_flip_configs_wrap_the_trained_model(size):
    train = Config.fromfile(osp.join(
        SEG_CONFIGS, f'upernet_vit-{size}-p16-mst-100e_8xb2-160k_ade20k-512x512.py'))
    cfg = Config.fromfile(osp.join(SEG_CONFIGS,
                                   f'upernet_vit-{size}-p16_ade20k-512x512_ms-flip-test.py'))
    assert cfg.model.type == 'SegTTAModel' and cfg.model.module == train.model
    tta = cfg.test_dataloader.dataset.pipeline[1]
    assert tta.type == 'TestTimeAug'
    assert [t.scale_factor for t in tta.transforms[0]] == [0.5, 0.75, 1.0, 1.25, 1.5, 1.75]
    assert [t.prob for t in tta.transforms[1]] == [0., 1.]
    init_default_scope('mmseg')
    model = MODELS.build(cfg.model)
    assert model.module.backbone.embed_dims == vit_size(f'vit-{size}-p16')[0]

