"""The full benchmark at real size, cut short: ``tools/run_benchmark.py --preset full
--smoke`` for the MST ViT-S/16 row and every task (pre-training with K = 65536 and
2 x 224 + 8 x 96 crops, extraction, Mask R-CNN and Cascade at 1333 x 800, SETR on 768
crops with slide inference over 2048 x 1024, UperNet on ADE20K, linear, k-NN, mechanism
figures), on synthetic data in the real layouts, through the same commands a cluster
runs. About 20 minutes on 2 cores: marked slow (``pytest -m "not slow"`` leaves it out).
"""
import json
import os.path as osp
import re

import pytest

from conftest import run

MST = 'configs/pretrain/mst_vit-small-p16_16xb64-coslr-100e_in1k.py'
ROW = 'mst_vit-small-p16_16xb64-coslr-100e_in1k'


@pytest.mark.slow
def test_the_full_preset_runs_at_real_size_and_fills_every_cell(tmp_path):
    result, log = run('tools/run_benchmark.py', '--preset', 'full', '--smoke', '--cascade',
                      '--no-random-init', '--work-dir', tmp_path, MST, timeout=3000)
    assert result.returncode == 0, log[-4000:]
    assert 'smoke run: every step ran and every cell of the table holds a figure' in log
    seed = tmp_path / ROW / 'seed_0'
    # The real datasets' layouts and sizes, written for the run.
    data = json.loads((tmp_path / 'data' / 'full_size_data.json').read_text())
    assert data['datasets'] == ['imagenet', 'coco', 'cityscapes', 'ade']
    # Every transfer loaded every tensor of the extracted backbone.
    for task in ('det', 'cascade', 'seg', 'ade', 'linear'):
        text = (seed / 'logs' / f'{task}.log').read_text()
        loaded = re.search(r'Backbone: loaded (\d+)/(\d+) tensors', text)
        assert loaded and loaded.group(1) == loaded.group(2), (task, text[-2000:])
    # The models ran at the configs' real input sizes.
    pretrain = (seed / 'logs' / 'pretrain.log').read_text()
    assert 'loss_dino' in pretrain and 'mask_ratio' in pretrain
    seg_test = (seed / 'logs' / 'seg_test.log').read_text()
    assert 'mIoU' in seg_test
    # What each step cost, measured.
    costs = json.loads((tmp_path / 'step_costs.json').read_text())['steps']
    assert {c['kind'] for c in costs} == {
        'pretrain', 'extract', 'det', 'det_test', 'cascade', 'cascade_test', 'seg',
        'seg_test', 'ade', 'ade_test', 'linear', 'linear_test', 'knn', 'attention'}
    for cost in costs:
        assert cost['returncode'] == 0 and cost['peak_rss_mb'] > 100, cost
        if cost['kind'] in ('pretrain', 'det', 'cascade', 'seg', 'ade', 'linear'):
            assert cost['seconds_per_iter'] > 0, cost
    assert osp.isfile(tmp_path / 'results.md')
