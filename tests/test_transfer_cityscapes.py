"""The Cityscapes transfer: pre-train -> extract -> SETR fine-tune -> mIoU."""
import json
import os
import os.path as osp
import re
import shutil

import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmseg.registry import DATASETS, MODELS

import mst_mm  # noqa: F401
from mst_mm.datasets.toy import CLASSES, make_toy_data
from conftest import ROOT, run

SEG_CONFIGS = osp.join(ROOT, 'configs', 'seg')
TOY_SEG = osp.join(SEG_CONFIGS, 'setr-pup_vit-toy-p8-mst-toy_1xb4-1k_toy-cityscapes.py')
FULL_SETR = osp.join(SEG_CONFIGS, 'setr-pup_vit-small-p16-mst-100e_8xb1-80k_cityscapes-768x768.py')
FULL_UPERNET = osp.join(SEG_CONFIGS,
                        'upernet_vit-small-p16-mst-100e_8xb2-80k_cityscapes-768x768.py')


def seg_overrides(cityscapes_root):
    return [f'train_dataloader.dataset.data_root={cityscapes_root}/',
            f'val_dataloader.dataset.data_root={cityscapes_root}/',
            f'test_dataloader.dataset.data_root={cityscapes_root}/',
            'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
            'test_dataloader.num_workers=0', 'default_hooks.logger.interval=5']


def test_setr_fine_tunes_from_the_extracted_backbone_and_reports_miou(pretrained):
    work_dir = pretrained['root'] / 'seg'
    overrides = seg_overrides(pretrained['data']['cityscapes'])
    result, log = run('tools/train.py', TOY_SEG, '--work-dir', work_dir, '--cfg-options',
                      f'pretrained={pretrained["backbone"]}', 'train_cfg.max_iters=30',
                      'train_cfg.val_interval=30', 'default_hooks.checkpoint.interval=30',
                      *overrides)
    assert result.returncode == 0, log[-3000:]
    assert 'Backbone: loaded 52/52 tensors' in log
    result, log = run('tools/test.py', TOY_SEG, work_dir / 'iter_30.pth', '--work-dir',
                      work_dir / 'test', '--cfg-options', *overrides)
    assert result.returncode == 0, log[-3000:]
    metrics = json.loads(sorted((work_dir / 'test').glob('*/*.json'))[-1].read_text())
    assert 0.0 <= metrics['mIoU'] <= 100.0
    for name in CLASSES:
        assert re.search(rf'\|\s*{name}\s*\|\s*[\d.]+\s*\|', log), f'no IoU row for {name}'


def test_toy_dataset_classes_are_the_toy_data_classes():
    classes = CLASSES
    toy = DATASETS.get('ToyCityscapesDataset')
    assert toy.METAINFO['classes'] == ('background', *classes)


@pytest.mark.parametrize('config', [FULL_SETR, FULL_UPERNET])
def test_the_full_size_configs_build_without_data_on_disk(config):
    cfg = Config.fromfile(config)
    init_default_scope('mmseg')
    segmentor = MODELS.build(cfg.model)
    assert segmentor.backbone.embed_dims == 384 and segmentor.backbone.num_layers == 12
    assert cfg.model.test_cfg == dict(mode='slide', crop_size=(768, 768), stride=(512, 512))
    dataset = DATASETS.build(dict(cfg.train_dataloader.dataset, lazy_init=True))
    assert dataset.data_root == 'data/cityscapes/'
    assert cfg.val_evaluator.type == 'IoUMetric' and cfg.val_evaluator.iou_metrics == ['mIoU']


def test_slide_inference_covers_a_full_1024x2048_image_with_vit_small():
    cfg = Config.fromfile(FULL_SETR)
    init_default_scope('mmseg')
    segmentor = MODELS.build(cfg.model)
    segmentor.eval()
    image = torch.randn(1, 3, 1024, 2048)
    meta = [dict(img_shape=(1024, 2048), ori_shape=(1024, 2048), pad_shape=(1024, 2048))]
    with torch.no_grad():
        logits = segmentor.inference(image, meta)
    assert logits.shape == (1, 19, 1024, 2048)


def toy_cityscapes(tmp_path):
    return make_toy_data(str(tmp_path / 'toy'), num_train=4, num_val=2,
                         size=(64, 32))['cityscapes']


def build_toy_dataset(root):
    init_default_scope('mmseg')
    return DATASETS.build(dict(
        type='ToyCityscapesDataset', data_root=root,
        data_prefix=dict(img_path='leftImg8bit/train', seg_map_path='gtFine/train'),
        pipeline=[]))


def test_a_cityscapes_folder_without_gtfine_is_refused_naming_it(tmp_path):
    root = toy_cityscapes(tmp_path)
    assert len(build_toy_dataset(root)) == 4
    shutil.rmtree(osp.join(root, 'gtFine'))
    with pytest.raises(FileNotFoundError, match='gtFine/train does not exist'):
        build_toy_dataset(root)


def test_images_without_matching_label_files_are_refused_naming_them(tmp_path):
    root = toy_cityscapes(tmp_path)
    labels = sorted(p for p in (tmp_path / 'toy' / 'cityscapes' / 'gtFine' / 'train').rglob(
        '*_gtFine_labelTrainIds.png'))
    os.rename(labels[0], str(labels[0]).replace('_gtFine_', '_renamed_'))
    with pytest.raises(FileNotFoundError, match='1 of 4 images have no label file.*'
                       + osp.basename(labels[0])):
        build_toy_dataset(root)
