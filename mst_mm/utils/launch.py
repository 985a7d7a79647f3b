"""Distributed launch that works on CPU nodes (gloo) as well as GPU nodes (nccl).

mmengine's ``init_dist`` calls ``torch.cuda.set_device`` for the ``pytorch`` and ``slurm``
launchers, which dies on a CPU node, and its Runner passes ``device_ids=[LOCAL_RANK]`` to
DDP, which CPU modules refuse. Here the process group is initialised before the Runner
is built (the Runner then skips ``init_dist``) with the backend chosen by the device, and
CPU runs get a DDP wrapper without ``device_ids``.
"""
import os
import subprocess
from datetime import timedelta

import torch
import torch.distributed as dist


def _slurm_environment() -> None:
    """Derive torch's rendezvous variables from Slurm's."""
    os.environ.setdefault('RANK', os.environ['SLURM_PROCID'])
    os.environ.setdefault('WORLD_SIZE', os.environ['SLURM_NTASKS'])
    os.environ.setdefault('LOCAL_RANK', os.environ['SLURM_LOCALID'])
    if 'MASTER_ADDR' not in os.environ:
        nodes = os.environ['SLURM_NODELIST']
        first = subprocess.run(['scontrol', 'show', 'hostnames', nodes], check=True,
                               capture_output=True, text=True).stdout.split()[0]
        os.environ['MASTER_ADDR'] = first
    # Not a fixed port: two jobs on one node would meet on it. The job id is the same
    # for every task of the job and differs between jobs.
    os.environ.setdefault('MASTER_PORT', str(slurm_master_port(os.environ['SLURM_JOB_ID'])))


def slurm_master_port(job_id: str) -> int:
    """The rendezvous port of a Slurm job: 20000-39999, from its job id."""
    return 20000 + int(job_id) % 20000


def init_distributed(launcher: str, timeout_s: int = 1800) -> str:
    """Initialise the default process group for ``launcher`` ('pytorch' or 'slurm').

    Returns the backend: 'nccl' where CUDA is available, 'gloo' otherwise.
    """
    if launcher == 'slurm':
        _slurm_environment()
    elif launcher != 'pytorch':
        raise ValueError(f'Unsupported launcher {launcher!r}: use none, pytorch or slurm.')
    for name in ('RANK', 'WORLD_SIZE', 'MASTER_ADDR', 'MASTER_PORT'):
        if name not in os.environ:
            raise RuntimeError(f'--launcher {launcher} needs ${name}; start the job with '
                               'tools/dist_train.sh (torchrun) or tools/slurm_train.sh.')
    if torch.cuda.is_available():
        backend = 'nccl'
        torch.cuda.set_device(int(os.environ.get('LOCAL_RANK', 0)))
    else:
        check_no_gpu_expected()
        backend = 'gloo'
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, timeout=timedelta(seconds=timeout_s))
    return backend


def gpus_expected() -> str:
    """Why this process should see a GPU ('' if nothing says so): the Slurm scripts ask
    for GPUs (``MST_MM_REQUIRE_GPU=1``), or Slurm allocated some to the job."""
    require = os.environ.get('MST_MM_REQUIRE_GPU')
    if require == '0':
        return ''
    if require == '1':
        return 'tools/slurm_launch.sh asked Slurm for GPUs (MST_MM_REQUIRE_GPU=1)'
    for name in ('SLURM_STEP_GPUS', 'SLURM_JOB_GPUS', 'SLURM_GPUS_ON_NODE'):
        if os.environ.get(name, '0') not in ('', '0'):
            return f'Slurm allocated GPUs to this job (${name}={os.environ[name]})'
    return ''


def check_no_gpu_expected() -> None:
    """Refuse to fall back to the CPU (gloo) where the job asked for GPUs: a task that
    sees none would otherwise train on the CPU, slowly and without an error."""
    reason = gpus_expected()
    if reason:
        raise RuntimeError(
            f'{reason}, but this process sees no CUDA device (torch {torch.__version__}, '
            f'CUDA_VISIBLE_DEVICES={os.environ.get("CUDA_VISIBLE_DEVICES", "unset")}). '
            'It would train on the CPU. Check the partition\'s GPUs and --gres '
            '(GRES=...), or, on a CPU cluster, run with CPU_ONLY=1 (MST_MM_REQUIRE_GPU=0).')


def setup_cpu_ddp(cfg) -> None:
    """On a CPU node, wrap the model in DDP without ``device_ids``."""
    if torch.cuda.is_available():
        return
    wrapper = dict(cfg.get('model_wrapper_cfg') or dict(type='MMDistributedDataParallel'))
    wrapper.setdefault('broadcast_buffers', False)
    wrapper['device_ids'] = None
    cfg.model_wrapper_cfg = wrapper


def launch(cfg, launcher: str) -> None:
    """Prepare a Runner config for ``launcher``: with 'pytorch' or 'slurm', initialise
    the process group here (the Runner then skips its own, CUDA-only ``init_dist``) and
    make DDP work on CPU nodes."""
    cfg.launcher = launcher
    if launcher != 'none':
        backend = init_distributed(launcher)
        setup_cpu_ddp(cfg)
        if dist.get_rank() == 0:
            print(f'Distributed: {dist.get_world_size()} processes, backend {backend}, '
                  f'launcher {launcher}.', flush=True)
