"""A diverged run stops at its first non-finite loss and saves nothing after it."""
import math
import os.path as osp
from typing import Dict, List

import torch
from mmengine.dist import all_reduce
from mmengine.hooks import Hook
from mmengine.registry import HOOKS


class NonFiniteError(RuntimeError):
    """Training met a NaN or an infinity in its losses or in the weights to save."""


def non_finite_losses(outputs) -> Dict[str, float]:
    """The loss terms (keys with 'loss', as mmengine sums them) that are NaN or inf."""
    found = {}
    for name, value in (outputs or {}).items():
        if 'loss' not in name:
            continue
        value = float(value.detach().float().mean()) if torch.is_tensor(value) else float(value)
        if not math.isfinite(value):
            found[name] = value
    return found


def non_finite_tensors(state_dict: dict) -> List[str]:
    """The names of the floating-point tensors of ``state_dict`` holding a NaN or inf."""
    return [name for name, value in state_dict.items()
            if torch.is_tensor(value) and value.is_floating_point()
            and not bool(torch.isfinite(value).all())]


@HOOKS.register_module()
class NonFiniteCheckHook(Hook):
    """Stop training at the first non-finite loss; never save non-finite weights.

    After every iteration, before any other hook (mmengine's ``CheckpointHook`` saves in
    ``after_train_iter`` and ``after_train_epoch``), the iteration's loss terms are
    checked on every rank (one all-reduce of a flag). At the first NaN or infinity the run
    stops with ``NonFiniteError`` naming the iteration and the terms: no checkpoint is
    written after it, and ``last_checkpoint`` keeps naming the last good one. Before any
    checkpoint is written its weights are checked too, as an update can overflow the
    weights while the loss that led to it was finite. ``tools/train.py`` adds this hook to
    every run.

    With ``max_skipped_iters > 0`` an iteration with non-finite gradients (which a
    non-finite loss gives) is skipped instead, as mixed precision skips an overflow:
    its gradients are dropped before the optimizer step, so the weights stay as they were,
    with a warning; the run stops when more than ``max_skipped_iters`` iterations in a
    row had a non-finite loss.

    Args:
        max_skipped_iters (int): Iterations in a row with a non-finite loss that are
            skipped before the run stops. Defaults to 0: stop at the first.
    """

    priority = 'HIGHEST'

    def __init__(self, max_skipped_iters: int = 0) -> None:
        if not isinstance(max_skipped_iters, int) or max_skipped_iters < 0:
            raise ValueError('NonFiniteCheckHook: max_skipped_iters must be an int >= 0, '
                             f'got {max_skipped_iters!r}.')
        self.max_skipped_iters = max_skipped_iters
        self.skipped_in_a_row = 0
        self._handle = None

    def before_train(self, runner) -> None:
        if self.max_skipped_iters:
            self._handle = runner.optim_wrapper.optimizer.register_step_pre_hook(
                self._drop_non_finite_gradients)

    def after_train(self, runner) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    @staticmethod
    def _drop_non_finite_gradients(optimizer, args, kwargs) -> None:
        params = [p for group in optimizer.param_groups for p in group['params']
                  if p.grad is not None]
        if not params:
            return
        norm = torch.nn.utils.get_total_norm([p.grad for p in params])
        if not torch.isfinite(norm):
            for param in params:
                param.grad = None  # the optimizer leaves a parameter without gradient

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs=None) -> None:
        found = non_finite_losses(outputs)
        flag = torch.tensor([len(found)], dtype=torch.int64)
        all_reduce(flag, op='max')
        if not int(flag.item()):
            self.skipped_in_a_row = 0
            return
        terms = ', '.join(f'{k}={v}' for k, v in found.items()) or 'on another rank'
        where = f'iteration {runner.iter + 1} (epoch {runner.epoch + 1})'
        self.skipped_in_a_row += 1
        if self.skipped_in_a_row <= self.max_skipped_iters:
            runner.logger.warning(
                f'Non-finite loss at {where}: {terms}; its update was skipped '
                f'({self.skipped_in_a_row} in a row, at most {self.max_skipped_iters}).')
            return
        message = (f'Non-finite loss at {where}: {terms}. Training stopped; '
                   f'{self._last_checkpoint(runner)} Lower the learning rate, or check '
                   'the data and the loss weights.')
        runner.logger.error(message)
        raise NonFiniteError(message)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        bad = non_finite_tensors(checkpoint.get('state_dict', {}))
        if bad:
            step = checkpoint.get('meta', {}).get('iter', runner.iter)
            message = (f'{len(bad)} tensors of the weights to save after iteration '
                       f'{step} are NaN or infinite (e.g. {bad[:5]}): training '
                       f'stopped without saving them; {self._last_checkpoint(runner)} '
                       'Lower the learning rate, or check the data and the loss weights.')
            runner.logger.error(message)
            raise NonFiniteError(message)

    @staticmethod
    def _last_checkpoint(runner) -> str:
        pointer = osp.join(runner.work_dir, 'last_checkpoint')
        if not osp.isfile(pointer):
            return 'no checkpoint was written.'
        with open(pointer) as f:
            return f'last_checkpoint still names {f.read().strip()}, written before.'
