"""Specification of the mechanism metrics (mst_mm.evaluation.attention_metrics), of the
tool that measures them on a COCO-format set and of the hook that logs them."""
import json
import math

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmpretrain.registry import MODELS

import mst_mm  # noqa: F401
from mst_mm.evaluation.attention_metrics import (
    METRIC_KEYS, AnnotatedCrop, attention_jaccard, attention_mass_region,
    attention_object_ratio, draw_masks, masked_on_object, measure, object_coverage, psnr)
from mst_mm.evaluation.mask_figure import TITLE_HEIGHT, compose, mask_panels

from conftest import TOY_PRETRAIN, run

# A 2 x 2 patch grid: the first patch all object, the second half, the others none.
ATTENTION = torch.tensor([0.4, 0.3, 0.2, 0.1])
COVERAGE = torch.tensor([1.0, 0.5, 0.0, 0.0])


def test_coverage_is_the_share_of_each_patch_on_objects_at_any_scale():
    mask = np.zeros((16, 16), bool)
    mask[:8, :8] = True  # patch (0, 0)
    mask[:8, 8:12] = True  # half of patch (0, 1)
    assert np.allclose(object_coverage(mask, (2, 2)), [[1, 0.5], [0, 0]])
    # 10 px over 4 patches: 2.5 px each; 4 object columns cover 1.5 px of the second.
    mask = np.zeros((10, 10), bool)
    mask[:, :4] = True
    assert np.allclose(object_coverage(mask, (4, 4)), [[1, 0.6, 0, 0]] * 4)


def test_object_ratio_is_attention_mass_on_objects_over_their_share():
    # mass on objects 0.4 * 1 + 0.3 * 0.5 = 0.55; objects cover 1.5 / 4 of the crop.
    assert attention_object_ratio(ATTENTION, COVERAGE) == pytest.approx(0.55 / 0.375)
    # The [CLS] token's own share of the softmax does not count: only the patches' split.
    assert attention_object_ratio(0.5 * ATTENTION, COVERAGE) == pytest.approx(0.55 / 0.375)
    assert math.isnan(attention_object_ratio(ATTENTION, torch.zeros(4)))


def test_jaccard_keeps_the_top_patches_holding_60_percent_of_the_mass():
    # 0.4 alone is below 60 %, 0.4 + 0.3 reaches it: the first two patches.
    assert attention_mass_region(ATTENTION).tolist() == [True, True, False, False]
    # Objects: 1.5 patches, all inside the 2 kept patches.
    assert attention_jaccard(ATTENTION, COVERAGE) == pytest.approx(1.5 / 2)
    # The object patch alone is kept: J = 1 / (1 + 1.5 - 1).
    peaked = torch.tensor([0.7, 0.1, 0.1, 0.1])
    assert attention_jaccard(peaked, COVERAGE) == pytest.approx(1 / 1.5)


def test_attention_region_is_dinos_thresholded_map():
    """visualize_attention.py: sort ascending, keep where the cumulative mass > 40 %."""
    torch.manual_seed(0)
    for _ in range(20):
        attention = torch.rand(196).pow(4)
        values, order = torch.sort(attention / attention.sum())
        dino = torch.zeros(196, dtype=torch.bool)
        dino[order[values.cumsum(0) > 1 - 0.6]] = True
        assert torch.equal(attention_mass_region(attention), dino)


def test_masked_on_object_pools_the_masked_patches_of_all_draws():
    masks = torch.tensor([[1, 0, 1, 0], [0, 1, 0, 0]], dtype=torch.bool)
    # Three masked patches hold 1 + 0 + 0.5 object patches.
    assert masked_on_object(masks, COVERAGE) == pytest.approx(1.5 / 3)
    assert math.isnan(masked_on_object(torch.zeros(2, 4, dtype=torch.bool), COVERAGE))


def test_psnr_is_in_decibels_of_the_0_255_range():
    # MSE 100: 10 log10(255^2 / 100).
    assert psnr(torch.full((3, 4, 4), 10.), torch.zeros(3, 4, 4)) == pytest.approx(28.1308,
                                                                                     abs=1e-4)
    assert psnr(torch.ones(3, 2, 2), torch.ones(3, 2, 2)) == math.inf


def objects_block(grid=8):
    """Coverage of an 8 x 8 grid with a 3 x 5 block of objects: 15/64 of the crop."""
    coverage = torch.zeros(grid, grid)
    coverage[2:5, 1:6] = 1
    return coverage.flatten()


def test_uniform_attention_gives_ratio_one_and_equal_object_shares():
    coverage = objects_block()
    uniform = torch.full((64, ), 1 / 64)
    assert attention_object_ratio(uniform, coverage) == pytest.approx(1.0)
    torch.manual_seed(0)
    attention = uniform.expand(4000, 64)
    for strategy in ('low', 'random', 'high'):
        masks = draw_masks(attention, strategy, 1, candidate_ratio=0.5, mask_prob=0.5)
        # About 64 000 masked patches: the standard error of the share is 0.002.
        assert masked_on_object(masks, coverage) == pytest.approx(15 / 64, abs=0.01), strategy


def test_attention_on_the_objects_keeps_them_from_the_low_mask():
    coverage = objects_block()
    attention = (1 + 4 * coverage).expand(500, 64)  # five times more on the objects
    assert attention_object_ratio(attention[0], coverage) == pytest.approx(5 / (
        1 + 4 * 15 / 64))
    torch.manual_seed(0)
    share = {s: masked_on_object(draw_masks(attention, s, 1, 0.5, 0.5), coverage)
             for s in ('low', 'random', 'high')}
    assert share['low'] == 0  # the 32 candidates are all background
    assert share['random'] == pytest.approx(15 / 64, abs=0.02)
    assert share['high'] == pytest.approx(15 / 32, abs=0.02)  # 15 of the 32 candidates


def test_figure_panels_are_upsampled_crops_with_titles_above_them():
    rng = np.random.default_rng(0)
    crop = rng.integers(0, 255, (64, 64, 3), np.uint8)
    masks = {s: rng.random(64) < 0.25 for s in ('low', 'random', 'high')}
    picture = compose(mask_panels(crop, rng.random(64), masks, restored=crop))
    assert picture.shape == (TITLE_HEIGHT + 192, 6 * 192 + 5 * 4, 3)
    # The first panel is the crop, each pixel a 3 x 3 block, no text written on it.
    assert np.array_equal(picture[TITLE_HEIGHT:, :192], crop.repeat(3, 0).repeat(3, 1))
    strip = picture[:TITLE_HEIGHT, :192]
    assert strip.max() > 200 and strip.min() < 50, 'the title is in the strip above'


@pytest.fixture(scope='module')
def toy_mst():
    cfg = Config.fromfile(TOY_PRETRAIN)
    init_default_scope('mmpretrain')
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def toy_crops(count=3, size=64, grid=8):
    rng = np.random.default_rng(0)
    return [AnnotatedCrop(f'img{i}.jpg', i, rng.integers(0, 255, (size, size, 3), np.uint8),
                          rng.random((grid, grid)).astype(np.float32)) for i in range(count)]


def test_measure_is_seeded_and_leaves_the_random_state_alone(toy_mst):
    crops = toy_crops()
    torch.manual_seed(123)
    before = torch.random.get_rng_state()
    first = measure(toy_mst, crops, seed=1, batch_size=2)
    assert torch.equal(torch.random.get_rng_state(), before)
    assert measure(toy_mst, crops, seed=1, batch_size=2).per_image == first.per_image
    assert toy_mst.training, 'measure() must give the model back in train mode'
    for row in first.per_image:
        assert set(METRIC_KEYS) <= set(row) and math.isfinite(row['restore_psnr'])


def test_tool_writes_all_four_figures_for_a_trained_toy_checkpoint(pretrained, tmp_path):
    coco = pretrained['data']['coco']
    out = tmp_path / 'mst.json'
    result, log = run('tools/analysis_tools/attention_metrics.py', TOY_PRETRAIN,
                      pretrained['checkpoint'], '--ann-file',
                      f'{coco}/annotations/instances_val2017.json', '--img-dir',
                      f'{coco}/val2017', '--out', out, '--show', 2)
    assert result.returncode == 0, log[-3000:]
    report = json.loads(out.read_text())
    assert len(report['per_image']) == 8 and report['mean']['num_images'] == 8
    for key in METRIC_KEYS:
        assert isinstance(report['mean'][key], float), key
    assert report['restore_mask'] == 'low' and report['crop_size'] == 64
    assert 'attn/obj' in log and 'mean of 8' in log  # the table
    pictures = sorted((tmp_path / 'mst_show').glob('*.png'))
    assert len(pictures) == 2
    picture = cv2.imread(str(pictures[0]))
    # crop, attention, objects, three masks, restoration: 7 titled panels of 192 px.
    assert picture.shape == (24 + 192, 7 * 192 + 6 * 4, 3)


def test_tool_measures_a_backbone_file_without_the_decoder_figure(pretrained, tmp_path):
    coco = pretrained['data']['coco']
    out = tmp_path / 'backbone.json'
    result, log = run('tools/analysis_tools/attention_metrics.py', TOY_PRETRAIN,
                      pretrained['backbone'], '--ann-file',
                      f'{coco}/annotations/instances_val2017.json', '--img-dir',
                      f'{coco}/val2017', '--out', out, '--show', 0)
    assert result.returncode == 0, log[-3000:]
    report = json.loads(out.read_text())
    assert report['mean']['restore_psnr'] is None
    assert isinstance(report['mean']['attn_jaccard60'], float)
    result, log = run('tools/analysis_tools/attention_metrics.py', TOY_PRETRAIN,
                      pretrained['backbone'], '--ann-file', tmp_path / 'missing.json')
    assert result.returncode != 0 and 'missing.json' in log


def test_hook_logs_the_figures_as_scalars_in_a_toy_training(pretrained, tmp_path):
    coco = pretrained['data']['coco']
    ann_file = f'{coco}/annotations/instances_val2017.json'
    hooks = Config.fromfile(TOY_PRETRAIN).custom_hooks
    index = next(i for i, h in enumerate(hooks) if h['type'] == 'AttentionMetricsHook')
    work_dir = tmp_path / 'train'
    result, log = run('tools/train.py', TOY_PRETRAIN, '--work-dir', work_dir, '--tensorboard',
                      '--cfg-options',
                      f'train_dataloader.dataset.data_root={pretrained["data"]["imagenet"]}',
                      'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
                      'train_cfg.max_epochs=3', f'custom_hooks.{index}.interval=2',
                      f'custom_hooks.{index}.ann_file={ann_file}',
                      f'custom_hooks.{index}.img_dir={coco}/val2017')
    assert result.returncode == 0, log[-3000:]
    # 3 iterations per epoch: before training, every second epoch and after the last.
    assert 'Attention metrics before epoch 1, iter 0 (8 images' in log
    assert 'Attention metrics after epoch 2, iter 6' in log
    assert 'Attention metrics after epoch 3, iter 9' in log
    vis_data = next(work_dir.glob('*/vis_data'))
    lines = (vis_data / 'scalars.json').read_text().splitlines()
    logged = [json.loads(line) for line in lines]
    logged = {row['step']: row for row in logged if 'mechanism/attn_object_ratio' in row}
    assert sorted(logged) == [0, 6, 9]
    for key in METRIC_KEYS:
        assert math.isfinite(logged[9][f'mechanism/{key}']), key
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator
    events = EventAccumulator(str(vis_data)).Reload()
    steps = [e.step for e in events.Scalars('mechanism/attn_jaccard60')]
    assert steps == [0, 6, 9]
