"""Preemption and resume with real training processes: a signal leaves a checkpoint of
the current iteration, the same command resumes from it on its own, and the result is
the unbroken run's, weight for weight. Also the kill during a checkpoint write, and the
checkpoints a run must refuse to resume from."""
import os
import os.path as osp
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import pytest
import torch

import mst_mm  # noqa: F401  (weights-only loading of mmengine checkpoints)
from mst_mm.engine.resume import find_resume_checkpoint
from conftest import ROOT, TOY_PRETRAIN, gated_config, run, run_command

TOY_DET = osp.join(ROOT, 'configs', 'det', 'mask-rcnn_vit-toy-p8-rand-init_fpn_1xb4-8e_toy-coco.py')
# Runs started here must not think they are part of a Slurm job of whoever runs pytest.
ENV = {k: v for k, v in os.environ.items() if not k.startswith('SLURM_')}


def pretrain_cmd(work_dir, data, *extra, config=TOY_PRETRAIN):
    """18 iterations (3 epochs of 6) of the toy MST, with two data-loader workers."""
    return [sys.executable, osp.join(ROOT, 'tools/train.py'), config, '--work-dir',
            str(work_dir), '--cfg-options',
            f'train_dataloader.dataset.data_root={data["imagenet"]}',
            'train_dataloader.batch_size=4', 'train_dataloader.num_workers=2',
            'train_cfg.max_epochs=3', 'default_hooks.logger.interval=1', 'randomness.seed=0',
            *extra]


def det_cmd(work_dir, data, config=TOY_DET):
    """8 iterations (2 epochs of 4, a COCO evaluation after each) of the toy Mask R-CNN."""
    coco = data['coco']
    return [sys.executable, osp.join(ROOT, 'tools/train.py'), config, '--work-dir',
            str(work_dir), '--cfg-options',
            f'train_dataloader.dataset.data_root={coco}/',
            f'val_dataloader.dataset.data_root={coco}/',
            f'test_dataloader.dataset.data_root={coco}/',
            f'val_evaluator.ann_file={coco}/annotations/instances_val2017.json',
            'train_dataloader.dataset.indices=8', 'train_dataloader.batch_size=2',
            'train_dataloader.num_workers=2', 'train_cfg.max_epochs=2',
            'train_cfg.val_interval=1', 'default_hooks.logger.interval=1',
            'randomness.seed=0']


def train(cmd, env=ENV):
    result = run_command(cmd, env=env)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    return log


def train_until_signalled(cmd, env, log_path, ready: str, sig: int, whole_group: bool):
    """Start a gated training (``gated_config``), send ``sig`` while it waits at its gate;
    return its exit status. A test that fails kills the whole process group."""
    with open(log_path, 'w') as log:
        proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                env=env, start_new_session=True)
    try:
        deadline = time.time() + 600
        while not osp.exists(f'{ready}.rank0'):
            assert proc.poll() is None, open(log_path).read()[-4000:]
            assert time.time() < deadline, 'the run never reached its gate'
            time.sleep(0.05)
        if whole_group:  # as Slurm does: every process of the step, data workers included
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        return proc.wait(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def assert_same_training_state(path_a, path_b):
    a = torch.load(path_a, map_location='cpu')
    b = torch.load(path_b, map_location='cpu')
    assert a['meta']['iter'] == b['meta']['iter']
    assert a['state_dict'].keys() == b['state_dict'].keys()
    for key, value in a['state_dict'].items():
        assert torch.equal(value, b['state_dict'][key]), key
    state_a, state_b = a['optimizer']['state'], b['optimizer']['state']
    assert state_a.keys() == state_b.keys()
    for param, moments in state_a.items():
        for name, value in moments.items():
            assert torch.equal(value, state_b[param][name]), (param, name)


def straight_and_stopped(cmd, config, tmp_path, at_iter: int, sig: int, whole_group: bool):
    """An unbroken run of ``config``, and a run signalled after iteration ``at_iter``:
    their work dirs, the gated config that resumes the stopped run, and its environment."""
    straight, broken = tmp_path / 'straight', tmp_path / 'broken'
    train(cmd(straight, config))
    gated, ready = gated_config(config, tmp_path, at_iter)
    env = dict(ENV, PYTHONPATH=f'{tmp_path}{os.pathsep}{ROOT}')
    status = train_until_signalled(cmd(broken, gated), env, tmp_path / 'broken.log', ready,
                                   sig, whole_group)
    log = open(tmp_path / 'broken.log').read()
    assert status == 128 + sig, log[-4000:]
    saved = [f for f in os.listdir(broken) if f.startswith('iter_')]
    assert saved == [f'iter_{at_iter}.pth'], os.listdir(broken)
    assert open(broken / 'last_checkpoint').read() == str(broken / saved[0])
    assert f'saving {saved[0]}' in log
    return straight, broken, gated, env


def test_preempted_pretraining_resumes_to_the_unbroken_runs_weights(pretrained, tmp_path):
    stopped_at = 8  # in the middle of epoch 2 (6 iterations an epoch), not at its end
    straight, broken, gated, env = straight_and_stopped(
        lambda work_dir, config: pretrain_cmd(work_dir, pretrained['data'], config=config),
        TOY_PRETRAIN, tmp_path, stopped_at, signal.SIGTERM, whole_group=True)

    # The same command again: it resumes on its own, in the middle of epoch 2.
    log = train(pretrain_cmd(broken, pretrained['data'], config=gated), env)
    assert f'Resuming from {broken / f"iter_{stopped_at}.pth"}' in log
    assert f'Resuming epoch 2 at batch {stopped_at - 6 + 1}' in log
    # Student, teacher (EMA), DINO center, optimizer moments: all as if never stopped.
    assert_same_training_state(straight / 'epoch_3.pth', broken / 'epoch_3.pth')


def test_preempted_detection_resumes_to_the_unbroken_runs_weights(pretrained, tmp_path):
    # SIGUSR1, Slurm's warning ahead of a time limit, to the training process only.
    stopped_at = 3
    straight, broken, gated, env = straight_and_stopped(
        lambda work_dir, config: det_cmd(work_dir, pretrained['data'], config=config),
        TOY_DET, tmp_path, stopped_at, signal.SIGUSR1, whole_group=False)
    log = train(det_cmd(broken, pretrained['data'], config=gated), env)
    assert f'Resuming from {broken / f"iter_{stopped_at}.pth"}' in log
    # Across the COCO evaluation after epoch 1 too.
    assert 'coco/bbox_mAP' in log
    assert_same_training_state(straight / 'epoch_2.pth', broken / 'epoch_2.pth')


KILLED_WHILE_SAVING = textwrap.dedent('''
    import os, runpy, signal, sys

    rename = os.replace

    def replace(src, dst):
        # The new checkpoint's bytes are on disk under a temporary name: die now.
        if dst.endswith('epoch_2.pth'):
            os.kill(os.getpid(), signal.SIGKILL)
        rename(src, dst)

    os.replace = replace
    sys.argv = sys.argv[1:]
    runpy.run_path(sys.argv[0], run_name='__main__')
''')


def test_a_kill_while_a_checkpoint_is_written_leaves_the_previous_one(pretrained, tmp_path):
    script = tmp_path / 'killed_while_saving.py'
    script.write_text(KILLED_WHILE_SAVING)
    work_dir = tmp_path / 'run'
    cmd = pretrain_cmd(work_dir, pretrained['data'], 'default_hooks.checkpoint.interval=1',
                       'train_dataloader.num_workers=0')
    result = run_command([sys.executable, str(script), *cmd[1:]], env=ENV, timeout=600)
    assert result.returncode == -signal.SIGKILL, (result.stdout + result.stderr)[-3000:]
    files = os.listdir(work_dir)
    assert 'epoch_1.pth' in files and 'epoch_2.pth' not in files
    assert any(f.startswith('.epoch_2.pth.') for f in files)  # the interrupted write
    assert open(work_dir / 'last_checkpoint').read() == str(work_dir / 'epoch_1.pth')

    log = train(cmd)
    assert f'Resuming from {work_dir / "epoch_1.pth"}' in log
    assert torch.load(work_dir / 'epoch_3.pth', map_location='cpu')['meta']['iter'] == 18


def test_resume_falls_back_to_the_newest_complete_checkpoint(pretrained, tmp_path):
    for name in ('epoch_2.pth', 'epoch_3.pth'):
        shutil.copy(pretrained['checkpoint'], tmp_path / name)
    state = torch.load(tmp_path / 'epoch_2.pth', map_location='cpu')
    state['meta']['iter'] = 6
    torch.save(state, tmp_path / 'epoch_2.pth')
    # A partial file, as a writer without atomic renames leaves behind.
    data = open(pretrained['checkpoint'], 'rb').read()
    open(tmp_path / 'epoch_4.pth', 'wb').write(data[:len(data) // 2])
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_3.pth')
    (tmp_path / 'last_checkpoint').write_text('')  # cut while being written
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_3.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_4.pth'))
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_3.pth')
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_2.pth'))
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_2.pth')
    assert find_resume_checkpoint(str(tmp_path / 'empty')) is None


def snapshot(folder):
    return {name: (os.stat(osp.join(folder, name)).st_mtime_ns,
                   os.stat(osp.join(folder, name)).st_size) for name in os.listdir(folder)}


@pytest.mark.parametrize('case', ['another model', 'a backbone', 'not a checkpoint',
                                  'auto: another model'])
def test_resume_refuses_a_checkpoint_that_is_not_of_this_config(pretrained, tmp_path, case):
    work_dir = tmp_path / 'run'
    work_dir.mkdir()
    if case == 'another model':  # trained with restore_weight 1.0
        checkpoint, options = pretrained['checkpoint'], ['model.restore_weight=0.5']
        expected = 'differs at model.restore_weight (checkpoint 1.0, config 0.5)'
    elif case == 'a backbone':
        checkpoint, options = pretrained['backbone'], []
        expected = 'is not a training checkpoint'
    elif case == 'not a checkpoint':
        checkpoint, options = tmp_path / 'notes.pth', []
        checkpoint.write_text('not a pickle')
        expected = 'notes.pth: not a PyTorch checkpoint'
    else:  # a work dir holding another model's run, resumed on its own
        shutil.copy(pretrained['checkpoint'], work_dir / 'epoch_3.pth')
        (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_3.pth'))
        checkpoint, options = None, ['model.backbone.arch.num_layers=2']
        expected = 'differs at model.backbone.arch.num_layers (checkpoint 4, config 2)'
    before = snapshot(work_dir)
    resume = ['--resume', str(checkpoint)] if checkpoint else []
    result, log = run('tools/train.py', TOY_PRETRAIN, '--work-dir', work_dir, *resume,
                      '--cfg-options',
                      f'train_dataloader.dataset.data_root={pretrained["data"]["imagenet"]}',
                      *options)
    assert result.returncode != 0
    assert expected in result.stderr, log[-3000:]
    assert str(checkpoint or work_dir / 'epoch_3.pth') in result.stderr
    assert snapshot(work_dir) == before  # nothing written, nothing overwritten
