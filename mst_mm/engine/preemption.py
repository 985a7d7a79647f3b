"""Save and stop on preemption, so that a requeued job continues where this one stopped."""
import os
import os.path as osp
import signal
import subprocess
from typing import Sequence

import torch
from mmengine.dist import all_reduce, barrier, is_main_process
from mmengine.hooks import Hook
from mmengine.registry import HOOKS

from .resume import write_last_checkpoint


class _WorkersIgnore:
    """A data-loader ``worker_init_fn`` that first makes the worker ignore ``signals``.

    Slurm signals every process of a job step; a data-loader worker that died of it
    would take the training process down before it could save.
    """

    def __init__(self, signals, worker_init_fn=None) -> None:
        self.signals = signals
        self.worker_init_fn = worker_init_fn

    def __call__(self, worker_id: int) -> None:
        for sig in self.signals:
            signal.signal(sig, signal.SIG_IGN)
        if self.worker_init_fn is not None:
            self.worker_init_fn(worker_id)


@HOOKS.register_module()
class PreemptionCheckpointHook(Hook):
    """On SIGTERM, or the signal Slurm sends ahead of a time limit, checkpoint and exit.

    The handler only notes the signal. After the iteration in progress, all ranks agree
    on it (one all-reduce of a flag per iteration), rank 0 saves ``iter_N.pth`` of that
    iteration (with optimizer and schedulers) and points
    ``last_checkpoint`` at it, every rank exits with status 128 + signal number, as a
    process killed by the signal would. ``tools/train.py`` resumes from it on its own.

    Under a Slurm batch job, a signal listed in ``requeue_signals`` also requeues the job
    (``scontrol requeue``), so that a job started with ``sbatch --signal=USR1@120`` runs
    again when its time runs out. A plain SIGTERM (``scancel``, preemption) does not:
    Slurm itself requeues preempted jobs where it is configured to.

    Args:
        signals (Sequence[str]): Signals that stop the run with a checkpoint.
            Defaults to ``('SIGTERM', 'SIGUSR1')``.
        requeue_signals (Sequence[str]): Signals that also requeue the Slurm job.
            Defaults to ``('SIGUSR1',)``.
    """

    priority = 'LOWEST'

    def __init__(self, signals: Sequence[str] = ('SIGTERM', 'SIGUSR1'),
                 requeue_signals: Sequence[str] = ('SIGUSR1',)) -> None:
        self.signals = [signal.Signals[name] for name in signals]
        self.requeue_signals = [signal.Signals[name] for name in requeue_signals]
        self.received = 0
        self._previous = {}

    def _note(self, signum, frame) -> None:
        self.received = signum

    def before_train(self, runner) -> None:
        for sig in self.signals:
            self._previous[sig] = signal.signal(sig, self._note)
        for loop in (runner.train_loop, runner.val_loop):
            loader = getattr(loop, 'dataloader', None)
            if loader is not None and not isinstance(loader.worker_init_fn, _WorkersIgnore):
                loader.worker_init_fn = _WorkersIgnore(self.signals, loader.worker_init_fn)

    def after_train(self, runner) -> None:
        for sig, handler in self._previous.items():
            signal.signal(sig, handler)
        self._previous.clear()

    def _agreed_signal(self) -> int:
        """The signal any rank received (0 for none), the same on every rank."""
        flag = torch.tensor([self.received], dtype=torch.int64)
        all_reduce(flag, op='max')
        return int(flag.item())

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        signum = self._agreed_signal()
        if not signum:
            return
        name = signal.Signals(signum).name
        filename = f'iter_{runner.iter + 1}.pth'
        runner.logger.warning(f'{name} received: saving {filename} and stopping.')
        runner.save_checkpoint(runner.work_dir, filename, by_epoch=False)
        if is_main_process():
            write_last_checkpoint(runner.work_dir, osp.join(runner.work_dir, filename))
        barrier()
        self.after_train(runner)
        runner.logger.warning(f'Stopped at iteration {runner.iter + 1}; the next run in '
                              f'{runner.work_dir} resumes from {filename}.')
        if (is_main_process() and signum in self.requeue_signals
                and 'SLURM_JOB_ID' in os.environ):
            self._requeue(runner, os.environ['SLURM_JOB_ID'])
        raise SystemExit(128 + signum)

    @staticmethod
    def _requeue(runner, job_id: str) -> None:
        result = subprocess.run(['scontrol', 'requeue', job_id], capture_output=True,
                                text=True)
        if result.returncode == 0:
            runner.logger.warning(f'Requeued Slurm job {job_id}.')
        else:
            runner.logger.warning(f'Could not requeue Slurm job {job_id} '
                                  f'({result.stderr.strip()}); start it again by hand.')
