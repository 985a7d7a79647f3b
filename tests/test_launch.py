"""Launching on a cluster, without one: the Slurm scripts' command lines, the rendezvous
variables derived from Slurm's, and the refusal to train on the CPU where the job asked
for GPUs. These always run; tests/test_slurm.py runs the same scripts on a real Slurm
where one can be started."""
import os
import os.path as osp
import stat
import sys

import pytest

from conftest import ROOT, run_command

# Stands in for `srun` on PATH: prints the command line it was given and the variable
# the scripts export to every task, then stops. Slurm itself is exercised by
# tests/test_slurm.py; here only what the scripts ask of it is read.
PRINT_ARGS = '#!/bin/sh\necho "MST_MM_REQUIRE_GPU=$MST_MM_REQUIRE_GPU"\nfor a in "$@"; do echo "ARG $a"; done\n'


@pytest.fixture
def srun_args(tmp_path):
    """Run a launch script with the argument printer as `srun`; return its arguments and
    the MST_MM_REQUIRE_GPU it exported."""
    srun = tmp_path / 'srun'
    srun.write_text(PRINT_ARGS)
    srun.chmod(srun.stat().st_mode | stat.S_IEXEC)

    def launch(script, *args, **env):
        environ = {k: v for k, v in os.environ.items()
                   if k not in ('CPU_ONLY', 'GRES', 'GPUS', 'GPUS_PER_NODE')}
        environ.update(PATH=f'{tmp_path}{os.pathsep}{os.environ["PATH"]}', **env)
        result = run_command(['bash', osp.join(ROOT, script), *args], env=environ)
        assert result.returncode == 0, result.stdout + result.stderr
        lines = result.stdout.splitlines()
        return ([line[4:] for line in lines if line.startswith('ARG ')],
                lines[0].split('=', 1)[1])

    return launch


def test_slurm_train_asks_every_node_for_its_gpus(srun_args):
    args, required = srun_args('tools/slurm_train.sh', 'gpu', 'job', 'CONFIG.py', 'WORK',
                               '--amp', GPUS='16', GPUS_PER_NODE='8')
    assert '--gres=gpu:8' in args and '--ntasks=16' in args and '--ntasks-per-node=8' in args
    assert args[args.index('-u') + 1:] == [
        osp.join(ROOT, 'tools/train.py'), 'CONFIG.py', '--work-dir=WORK', '--amp',
        '--launcher', 'slurm']
    assert required == '1'


def test_slurm_test_and_any_tool_go_through_the_same_launch(srun_args):
    args, required = srun_args('tools/slurm_test.sh', 'gpu', 'job', 'CONFIG.py', 'CKPT.pth',
                               GPUS_PER_NODE='4', GRES='gpu:a100:4')
    assert '--gres=gpu:a100:4' in args and required == '1'
    assert args[args.index('-u') + 1:] == [
        osp.join(ROOT, 'tools/test.py'), 'CONFIG.py', 'CKPT.pth', '--launcher', 'slurm']
    args, _ = srun_args('tools/slurm_launch.sh', 'gpu', 'knn',
                        'tools/analysis_tools/knn_eval.py', 'CONFIG.py')
    assert args[args.index('-u') + 1:] == [
        osp.join(ROOT, 'tools/analysis_tools/knn_eval.py'), 'CONFIG.py', '--launcher',
        'slurm']


def test_a_cpu_cluster_asks_for_no_gpu_and_allows_gloo(srun_args):
    args, required = srun_args('tools/slurm_train.sh', 'cpu', 'job', 'CONFIG.py', 'WORK',
                               CPU_ONLY='1', GPUS='2', GPUS_PER_NODE='2')
    assert not any(a.startswith('--gres') for a in args) and required == '0'


def slurm_task(code: str, **env) -> tuple:
    """Run ``code`` as a Slurm task of a fake job (its SLURM_* variables) that sees no
    GPU; return the result and its output."""
    environ = {k: v for k, v in os.environ.items()
               if not k.startswith(('SLURM_', 'MST_MM_', 'RANK', 'WORLD_SIZE', 'MASTER_'))}
    environ.update(SLURM_PROCID='1', SLURM_NTASKS='2', SLURM_LOCALID='1',
                   SLURM_JOB_ID='123456', SLURM_NODELIST='node1', MASTER_ADDR='127.0.0.1',
                   CUDA_VISIBLE_DEVICES='', PYTHONPATH=ROOT, **env)
    result = run_command([sys.executable, '-c', code], env=environ, timeout=120)
    return result, result.stdout + result.stderr


def test_a_task_of_a_gpu_job_that_sees_no_gpu_refuses_to_train_on_the_cpu():
    init = 'from mst_mm.utils import init_distributed; init_distributed("slurm")'
    for env in (dict(MST_MM_REQUIRE_GPU='1'), dict(SLURM_JOB_GPUS='0,1'),
                dict(SLURM_GPUS_ON_NODE='8')):
        result, log = slurm_task(init, **env)
        assert result.returncode != 0, (env, log)
        assert 'sees no CUDA device' in log and 'CPU_ONLY=1' in log, log[-2000:]
        assert 'It would train on the CPU' in log


def test_slurm_rendezvous_variables_come_from_the_job():
    code = ('import os; from mst_mm.utils.launch import _slurm_environment, gpus_expected; '
            '_slurm_environment(); '
            'print(*(os.environ[k] for k in ("RANK", "WORLD_SIZE", "LOCAL_RANK", '
            '"MASTER_PORT")), repr(gpus_expected()))')
    result, log = slurm_task(code, MST_MM_REQUIRE_GPU='0', SLURM_JOB_GPUS='0')
    assert result.returncode == 0, log
    # Rank 1 of 2, local rank 1; the port is 20000 + job id mod 20000 (two jobs on a
    # node do not meet on it); an explicit CPU opt-out expects no GPU.
    assert result.stdout.split() == ['1', '2', '1', str(20000 + 123456 % 20000), "''"]
