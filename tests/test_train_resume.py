"""A real toy pre-training through tools/train.py: checkpoints, then --resume."""
import glob
import os.path as osp
import subprocess
import sys

import pytest
import torch

import mst_mm  # noqa: F401  (allow-lists what mmengine checkpoints hold)

from mst_mm.datasets.toy import make_toy_data
from conftest import PRETRAIN_CONFIGS, ROOT

TOY = osp.join(PRETRAIN_CONFIGS, 'mst_vit-toy-p8_1xb32-20e_toy.py')


@pytest.fixture(scope='module')
def toy_imagenet(tmp_path_factory):
    paths = make_toy_data(str(tmp_path_factory.mktemp('toy')), seed=0, num_train=24,
                          num_val=8, size=(128, 64))
    return paths['imagenet']


def train(work_dir, data_root, max_epochs, *extra):
    cmd = [sys.executable, osp.join(ROOT, 'tools/train.py'), TOY, '--work-dir', work_dir,
           '--cfg-options', f'train_dataloader.dataset.data_root={data_root}',
           'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
           f'train_cfg.max_epochs={max_epochs}', 'default_hooks.checkpoint.interval=1',
           'default_hooks.checkpoint.max_keep_ckpts=-1',
           'default_hooks.logger.interval=1', *extra]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=600)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    return result.stdout + result.stderr


def test_toy_pretraining_checkpoints_and_resumes(tmp_path, toy_imagenet):
    work_dir = str(tmp_path / 'run')
    # 3 epochs of 3 iterations: the schedules need more than the 2 warm-up epochs.
    log = train(work_dir, toy_imagenet, 3, '--tensorboard')
    assert 'loss_dino' in log and 'loss_restore' in log
    assert glob.glob(osp.join(work_dir, '*', 'vis_data', 'events.out.tfevents.*'))
    first = osp.join(work_dir, 'epoch_1.pth')
    checkpoint = torch.load(first, map_location='cpu')  # weights-only, torch's default
    assert checkpoint['meta']['epoch'] == 1 and checkpoint['meta']['iter'] == 3
    assert int(checkpoint['state_dict']['teacher.steps']) == 3
    # Epoch 0 left the student's last layer as initialised, which is what the teacher
    # copied at its first update; the rest of the head did train.
    state = checkpoint['state_dict']
    assert torch.allclose(state['head.last_layer.weight'],
                          state['teacher.module.head.last_layer.weight'], rtol=0, atol=1e-7)
    assert not torch.allclose(state['head.mlp.0.weight'],
                              state['teacher.module.head.mlp.0.weight'], rtol=0, atol=1e-5)

    log = train(work_dir, toy_imagenet, 4, '--resume')
    assert 'resumed epoch: 3, iter: 9' in log.replace('Resumed', 'resumed')
    resumed = torch.load(osp.join(work_dir, 'epoch_4.pth'), map_location='cpu')
    assert resumed['meta']['iter'] == 12
    assert int(resumed['state_dict']['teacher.steps']) == 12
    assert not torch.equal(resumed['state_dict']['dino_loss.center'],
                           checkpoint['state_dict']['dino_loss.center'])
    # From epoch 1 on the last layer trains.
    assert not torch.allclose(resumed['state_dict']['head.last_layer.weight'],
                              state['head.last_layer.weight'], rtol=0, atol=1e-5)


def test_resume_from_a_missing_checkpoint_is_refused(tmp_path, toy_imagenet):
    cmd = [sys.executable, osp.join(ROOT, 'tools/train.py'), TOY, '--work-dir',
           str(tmp_path), '--resume', str(tmp_path / 'nope.pth')]
    result = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
    assert result.returncode != 0
    assert 'checkpoint not found' in result.stderr and 'nope.pth' in result.stderr
    assert not glob.glob(str(tmp_path / '*.pth'))


def test_a_second_run_in_the_same_work_dir_refuses_to_start(tmp_path, toy_imagenet):
    work_dir = str(tmp_path / 'shared')
    cmd = [sys.executable, osp.join(ROOT, 'tools/train.py'), TOY, '--work-dir', work_dir,
           '--cfg-options', f'train_dataloader.dataset.data_root={toy_imagenet}',
           'train_dataloader.num_workers=0', 'train_dataloader.batch_size=8',
           'train_cfg.max_epochs=50']
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                             text=True, cwd=ROOT)
    try:
        for line in first.stdout:  # wait until the first run trains
            if 'Epoch(train)' in line:
                break
        second = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT, timeout=300)
        assert second.returncode != 0
        assert 'is in use by another training run' in second.stderr
        assert first.poll() is None, 'the first run must go on'
    finally:
        first.kill()
        first.wait()
