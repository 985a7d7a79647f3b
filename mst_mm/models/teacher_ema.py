"""The teacher's EMA update without host-device synchronisations."""
from math import cos, pi

import torch
from mmengine.logging import MessageHub
from torch import nn

from mmpretrain.models.utils import CosineEMA


class TeacherEMA(CosineEMA):
    """mmpretrain's ``CosineEMA`` (DINO's teacher momentum schedule), sync-free.

    mmengine's averaged model counts its updates in a tensor buffer and branches on it,
    and ``CosineEMA`` computes the momentum from that tensor for every parameter: on a
    GPU each parameter costs a host-device synchronisation, some 160 per step for a
    ViT-S and its head. Here the count is mirrored on the host (read from the buffer
    once after construction or a checkpoint load), the momentum is computed once per
    update, with the same float32 arithmetic, and the parameters are updated by
    multi-tensor kernels. Same results, same state dict.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._host_steps = None

    def _load_from_state_dict(self, *args, **kwargs) -> None:
        super()._load_from_state_dict(*args, **kwargs)
        self._host_steps = None  # the loaded count is read at the next update

    def momentum_at(self, steps: int) -> float:
        """CosineEMA's momentum after ``steps`` updates, computed as it computes it."""
        max_iters = MessageHub.get_current_instance().get_info('max_iters')
        cosine = (cos(pi * torch.tensor(steps) / float(max_iters)) + 1) / 2
        return self.end_momentum - (self.end_momentum - self.momentum) * cosine

    @torch.no_grad()
    def update_parameters(self, model: nn.Module) -> None:
        if self._host_steps is None:
            self._host_steps = int(self.steps)  # one synchronisation, at (re)start
        source = (model.state_dict() if self.update_buffers else
                  dict(model.named_parameters()))
        if self._host_steps == 0:
            for key, averaged in self.avg_parameters.items():
                averaged.data.copy_(source[key].data)
        elif self._host_steps % self.interval == 0:
            pairs = [(averaged.data, source[key].data.to(averaged.device))
                     for key, averaged in self.avg_parameters.items()
                     if averaged.dtype.is_floating_point]
            averaged, new = [p for p, _ in pairs], [s for _, s in pairs]
            momentum = self.momentum_at(self._host_steps)
            torch._foreach_mul_(averaged, 1 - momentum)
            torch._foreach_add_(averaged, new, alpha=momentum)
        if not self.update_buffers:
            for b_avg, b_src in zip(self.module.buffers(), model.buffers()):
                b_avg.data.copy_(b_src.data.to(b_avg.device))
        self.steps += 1
        self._host_steps += 1
