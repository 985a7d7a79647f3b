"""The end-to-end benchmark: the runner, the results table and the mask pictures."""
import json
import os.path as osp

import cv2
import numpy as np
from mmengine.config import Config

from conftest import PRETRAIN_CONFIGS, ROOT, run

TOY_MST = 'configs/pretrain/mst_vit-toy-p8_1xb32-20e_toy.py'
# A few iterations per step.
CUT_DOWN = [
    '--pretrain-options', 'train_cfg.max_epochs=3', 'train_dataloader.dataset.indices=16',
    'train_dataloader.batch_size=8',
    '--det-options', 'train_cfg.max_epochs=1', 'train_dataloader.dataset.indices=8',
    'test_dataloader.dataset.indices=8', 'param_scheduler.0.end=2',
    '--seg-options', 'train_cfg.max_iters=21', 'train_cfg.val_interval=21',
    'default_hooks.checkpoint.interval=21', 'test_dataloader.dataset.indices=4',
    '--ade-options', 'train_cfg.max_iters=6', 'train_cfg.val_interval=6',
    'default_hooks.checkpoint.interval=6', 'param_scheduler.0.end=2',
    'param_scheduler.1.begin=2', 'val_dataloader.dataset.indices=4',
    'test_dataloader.dataset.indices=4',
    '--linear-options', 'train_cfg.max_epochs=1', 'train_cfg.val_interval=1',
    'train_dataloader.dataset.indices=32', 'test_dataloader.dataset.indices=16',
]


def test_the_runner_fills_a_row_per_pretraining_and_skips_what_is_done(tmp_path):
    work_dir = tmp_path / 'benchmark'
    args = ['tools/run_benchmark.py', TOY_MST, '--work-dir', work_dir, *CUT_DOWN]
    result, log = run(*args)
    assert result.returncode == 0, log[-4000:]
    table = (work_dir / 'results.md').read_text()
    rows = {line.split('|')[1].strip(): [c.strip() for c in line.split('|')[2:-1]]
            for line in table.splitlines()[:4] if line.startswith('| ')}
    assert set(rows) == {'pre-training', 'mst_vit-toy-p8_1xb32-20e_toy', 'random-init'}
    assert rows['mst_vit-toy-p8_1xb32-20e_toy'][0] == '3'
    for name in ('mst_vit-toy-p8_1xb32-20e_toy', 'random-init'):
        for cell in rows[name][1:]:
            assert 0.0 <= float(cell) <= 100.0, (name, rows[name])
    assert (work_dir / 'results.png').stat().st_size > 0
    assert 'chart: ' in log

    result, log = run(*args)
    assert result.returncode == 0, log[-4000:]
    assert '20 steps, 20 already done' in log  # 11 for the pre-training, 9 for random init


def write_metrics(run_dir, metrics):
    folder = run_dir / 'test' / '20261129_000000'
    folder.mkdir(parents=True)
    (folder / '20261129_000000.json').write_text(json.dumps(metrics))


def test_the_table_shows_missing_and_unfinished_runs_as_such(tmp_path):
    done = tmp_path / 'mst_toy'
    (done / 'pretrain').mkdir(parents=True)
    # as a training leaves it: the dumped config and the last checkpoint
    Config.fromfile(osp.join(PRETRAIN_CONFIGS, 'mst_vit-toy-p8_1xb32-20e_toy.py')).dump(
        str(done / 'pretrain' / 'mst_vit-toy-p8_1xb32-20e_toy.py'))
    (done / 'pretrain' / 'epoch_20.pth').write_bytes(b'')
    write_metrics(done / 'det', {'coco/bbox_mAP': 0.123, 'coco/segm_mAP': 0.045})
    (done / 'seg').mkdir()  # started, no test metrics: unfinished
    write_metrics(done / 'ade', {'mIoU': 21.5})
    write_metrics(done / 'linear', {'accuracy/top1': 55.5})
    (done / 'knn').mkdir()
    (done / 'knn' / 'knn.json').write_text(json.dumps({'knn_top1': 33.3}))
    never_run = tmp_path / 'dino_toy'
    out = tmp_path / 'table' / 'results'
    result, log = run('tools/analysis_tools/collect_results.py', done, never_run,
                      '--out', out)
    assert result.returncode == 0, log
    lines = (tmp_path / 'table' / 'results.md').read_text().splitlines()
    assert '| mst_toy | 20 | 12.30 | 4.50 | unfinished | 21.50 | 55.50 | 33.30 |' in lines
    assert ('| dino_toy | missing | missing | missing | missing | missing | missing '
            '| missing |') in lines
    # The paper gives no ADE20K figure.
    assert any(line.startswith('| MST (paper) | 100 / 300 | 42.70 | unknown | 74.04 | unknown '
                               '| 76.90') for line in lines)
    csv = (tmp_path / 'table' / 'results.csv').read_text()
    assert 'mst_toy,20,12.30,4.50,unfinished,21.50,55.50,33.30,this run' in csv
    assert (tmp_path / 'table' / 'results.png').exists()


def test_show_mask_writes_a_picture_per_image(pretrained, tmp_path):
    image = tmp_path / 'photo.jpg'
    cv2.imwrite(str(image), np.random.default_rng(0).integers(0, 255, (90, 160, 3),
                                                              dtype=np.uint8))
    result, log = run('tools/visualization/show_mask.py',
                      osp.join(PRETRAIN_CONFIGS, 'mst_vit-toy-p8_1xb32-20e_toy.py'),
                      pretrained['checkpoint'], image, '--out-dir', tmp_path / 'out')
    assert result.returncode == 0, log[-3000:]
    picture = cv2.imread(str(tmp_path / 'out' / 'photo_mask.png'))
    # crop, attention, three masks, reconstruction: six 64 x 64 panels
    assert picture.shape == (64, 6 * 64, 3)


def test_show_mask_names_an_unreadable_image(pretrained, tmp_path):
    (tmp_path / 'broken.jpg').write_bytes(b'not an image')
    result, log = run('tools/visualization/show_mask.py',
                      osp.join(PRETRAIN_CONFIGS, 'mst_vit-toy-p8_1xb32-20e_toy.py'),
                      pretrained['checkpoint'], tmp_path / 'broken.jpg')
    assert result.returncode != 0 and 'cannot read image' in log and 'broken.jpg' in log
