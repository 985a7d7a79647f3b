"""tools/slurm_train.sh on a real Slurm cluster: two tasks train the toy MST with DDP;
a batch job sent Slurm's time-limit signal checkpoints, requeues itself and, started
again by Slurm, finishes with the unbroken run's weights.

The set-up starts a single-node cluster on this host (tools/dev/local_slurm.sh: Debian's
slurm-wlm and munge, as root). Where that is impossible the tests are skipped, saying
why; CI runs them.
"""
import os
import os.path as osp
import re
import shutil
import subprocess
import sys
import time

import pytest

from conftest import ROOT, TOY_PRETRAIN, gated_config, run_command
from test_benchmark import CUT_DOWN, TOY_MST, table_rows
from test_preemption import assert_same_training_state

PARTITION = os.environ.get('MST_MM_SLURM_PARTITION', 'debug')


def slurm_is_up() -> bool:
    try:
        return subprocess.run(['sinfo', '-h', '-p', PARTITION, '-o', '%t'], capture_output=True,
                              text=True, timeout=20).stdout.strip() in ('idle', 'mix')
    except (OSError, subprocess.TimeoutExpired):
        return False


@pytest.fixture(scope='module')
def slurm():
    """The Slurm cluster's environment; a cluster this fixture started is stopped after
    the module (slurmctld, slurmd and munged do not outlive the tests)."""
    local_slurm = ['bash', osp.join(ROOT, 'tools/dev/local_slurm.sh')]
    started = False
    if not slurm_is_up():
        if os.geteuid() != 0 or not shutil.which('apt-get'):
            pytest.skip('no Slurm here, and starting one needs root on Debian/Ubuntu')
        # Started from a shell with OMP_NUM_THREADS=1 (nproc honours it), the cluster
        # must still declare every core, or two-task jobs wait forever.
        result = subprocess.run(local_slurm + ['start'], capture_output=True, text=True,
                                timeout=900, env={**os.environ, 'OMP_NUM_THREADS': '1'})
        started = True
        if result.returncode != 0:
            subprocess.run(local_slurm + ['stop'], capture_output=True, timeout=120)
            pytest.fail(result.stdout + result.stderr)
    try:
        if started:
            assert f', {len(os.sched_getaffinity(0))} CPUs.' in result.stdout, result.stdout
        assert slurm_is_up()
        # The jobs' tasks run this Python, one thread each.
        env = {k: v for k, v in os.environ.items() if not k.startswith('SLURM_')}
        env.update(PATH=osp.dirname(sys.executable) + os.pathsep + env['PATH'],
                   OMP_NUM_THREADS='1', GPUS='2', GPUS_PER_NODE='2', CPUS_PER_TASK='1',
                   CPU_ONLY='1')  # this cluster has no GPUs
        yield env
    finally:
        if started:
            subprocess.run(['scancel', '--user', 'root'], capture_output=True, timeout=60)
            subprocess.run(local_slurm + ['stop'], capture_output=True, timeout=120)


def slurm_train_cmd(work_dir, data, config=TOY_PRETRAIN):
    """tools/slurm_train.sh with two tasks: 9 iterations (3 epochs of 24 / (2 x 4))."""
    return ['bash', osp.join(ROOT, 'tools/slurm_train.sh'), PARTITION, 'mst-toy', config,
            str(work_dir), '--cfg-options',
            f'train_dataloader.dataset.data_root={data["imagenet"]}',
            'train_dataloader.batch_size=4', 'train_dataloader.num_workers=1',
            'train_cfg.max_epochs=3', 'default_hooks.logger.interval=1', 'randomness.seed=0']


@pytest.fixture(scope='module')
def unbroken(slurm, pretrained, tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('slurm') / 'unbroken'
    result = run_command(slurm_train_cmd(work_dir, pretrained['data']), env=slurm)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    return work_dir, log


def test_slurm_train_runs_two_ranks(unbroken):
    work_dir, log = unbroken
    assert 'Distributed: 2 processes, backend gloo, launcher slurm.' in log
    assert 'Epoch(train) [3][3/3]' in log  # the 24 images split between the two ranks
    assert osp.isfile(osp.join(work_dir, 'epoch_3.pth'))


def job_state(job_id: str) -> dict:
    text = subprocess.run(['scontrol', 'show', 'job', job_id], capture_output=True,
                          text=True).stdout
    return dict(re.findall(r'(JobState|Restarts)=(\S+)', text))


def test_signalled_batch_job_checkpoints_requeues_and_finishes_exactly(
        slurm, pretrained, unbroken, tmp_path):
    work_dir, out = tmp_path / 'requeued', tmp_path / 'job.out'
    # The job waits after iteration 4 (epoch 2, batch 1) until its tasks got the signal.
    gated, ready = gated_config(TOY_PRETRAIN, tmp_path, at_iter=4)
    env = dict(slurm, PYTHONPATH=f'{tmp_path}{os.pathsep}{ROOT}')
    job = subprocess.run(
        ['sbatch', '--parsable', '-p', PARTITION, '-n', '2', '--requeue',
         '--open-mode=append', '-o', str(out), '--wrap',
         ' '.join(slurm_train_cmd(work_dir, pretrained['data'], config=gated))],
        capture_output=True, text=True, cwd=ROOT, env=env, check=True).stdout.strip()
    job_id = job.split(';')[0]
    try:
        deadline = time.time() + 600
        while not osp.exists(f'{ready}.rank0'):
            assert time.time() < deadline, out.read_text()[-4000:] if out.exists() else ''
            time.sleep(0.05)
        # What `sbatch --signal=USR1@T` sends T seconds ahead of the time limit.
        subprocess.run(['scancel', '--signal=USR1', job_id], check=True)
        state = job_state(job_id)
        while not (state.get('JobState') in ('COMPLETED', 'FAILED', 'CANCELLED')
                   and state.get('Restarts') != '0'):
            assert time.time() < deadline, (state, out.read_text()[-4000:])
            time.sleep(0.5)
            state = job_state(job_id)
    finally:
        subprocess.run(['scancel', job_id])
    log = out.read_text()
    assert job_state(job_id) == {'JobState': 'COMPLETED', 'Restarts': '1'}, log[-4000:]
    saved = re.search(r'SIGUSR1 received: saving (iter_\d+\.pth)', log).group(1)
    assert saved == 'iter_4.pth'
    assert f'Requeued Slurm job {job_id}' in log
    assert f'Resuming from {work_dir / saved}' in log
    assert_same_training_state(unbroken[0] / 'epoch_3.pth', work_dir / 'epoch_3.pth')


def test_the_benchmark_runner_sends_its_steps_through_slurm(slurm, tmp_path):
    work_dir = tmp_path / 'benchmark'
    cmd = [sys.executable, osp.join(ROOT, 'tools/run_benchmark.py'), TOY_MST, '--work-dir',
           str(work_dir), '--launcher', 'slurm', '--partition', PARTITION, '--only', 'det',
           *CUT_DOWN]
    result = run_command(cmd, env=slurm, timeout=1800)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    assert 'all steps done' in log
    row = table_rows((work_dir / 'results.md').read_text())['mst_vit-toy-p8_1xb32-20e_toy']
    box_ap, mask_ap = (float(c) for c in row[2:4])
    assert 0 <= box_ap <= 100 and 0 <= mask_ap <= 100
    # Each training ran as a two-task Slurm job.
    for step in ('pretrain', 'det'):
        logs = list((work_dir / 'mst_vit-toy-p8_1xb32-20e_toy' / 'seed_0' / step)
                    .glob('*/*.log'))
        assert logs and 'Distributed launcher: slurm' in logs[0].read_text(), step
