"""The DINO self-distillation loss with centering and sharpening (Caron et al., 2021)."""
import math
from typing import Dict, Sequence

import torch
import torch.nn.functional as F
from mmengine.dist import all_reduce, get_world_size
from torch import nn

from mmpretrain.registry import MODELS


@MODELS.register_module()
class DINOLoss(nn.Module):
    """Cross-entropy between the centred, sharpened teacher and the student.

    ``P_t = softmax((g_t - c) / tau_t)``, ``P_s = softmax(g_s / tau_s)``, averaged over
    every pair (teacher global crop i, student crop j) with ``i != j``. The center ``c``
    is an EMA of the batch mean of the teacher outputs, all-reduced across processes.
    ``tau_t`` grows linearly from ``warmup_teacher_temp`` to ``teacher_temp`` over the
    first ``warmup_teacher_temp_epochs`` epochs.

    Each forward also leaves DINO's collapse diagnostics of its batch (this process's
    samples, no gradient) in :attr:`diagnostics`, in nats:

    - ``teacher_entropy``: h(P_t), the mean per-sample entropy of the teacher;
    - ``teacher_kl_uniform``: the mean per-sample KL(P_t || uniform) = log K - h(P_t);
      near 0 in uniform collapse;
    - ``teacher_marginal_entropy``: the entropy of the batch-mean teacher distribution;
      near 0 in one-prototype collapse (every sample on the same prototype);
    - ``teacher_student_kl``: KL(P_t || P_s) over the loss's crop pairs, the loss minus
      h(P_t); near 0 when the student copies a collapsed teacher.

    Args:
        out_channels (int): Number of prototypes K.
        student_temp (float): tau_s. Defaults to 0.1.
        teacher_temp (float): tau_t after the warm-up. Defaults to 0.07.
        warmup_teacher_temp (float): tau_t at epoch 0. Defaults to 0.04.
        warmup_teacher_temp_epochs (int): Length of the warm-up. Defaults to 30.
        center_momentum (float): EMA momentum of the center. Defaults to 0.9.
    """

    def __init__(self,
                 out_channels: int,
                 student_temp: float = 0.1,
                 teacher_temp: float = 0.07,
                 warmup_teacher_temp: float = 0.04,
                 warmup_teacher_temp_epochs: int = 30,
                 center_momentum: float = 0.9) -> None:
        super().__init__()
        self.student_temp = student_temp
        self.teacher_temp = teacher_temp
        self.warmup_teacher_temp = warmup_teacher_temp
        self.warmup_teacher_temp_epochs = warmup_teacher_temp_epochs
        self.center_momentum = center_momentum
        self.register_buffer('center', torch.zeros(1, out_channels))
        self.diagnostics: Dict[str, torch.Tensor] = {}

    def teacher_temp_at(self, epoch: int) -> float:
        """tau_t of an epoch: linear warm-up, then constant."""
        if epoch >= self.warmup_teacher_temp_epochs:
            return self.teacher_temp
        step = (self.teacher_temp - self.warmup_teacher_temp) / max(
            self.warmup_teacher_temp_epochs - 1, 1)
        return self.warmup_teacher_temp + epoch * step

    def forward(self, student_out: Sequence[torch.Tensor],
                teacher_out: Sequence[torch.Tensor], epoch: int) -> torch.Tensor:
        """Compute the loss and update the center.

        Args:
            student_out: Head outputs per student crop, each (B, K); the global crops first.
            teacher_out: Head outputs per teacher (global) crop, each (B, K).
            epoch: Current epoch, for the teacher-temperature schedule.
        """
        temp = self.teacher_temp_at(epoch)
        teacher_probs = [F.softmax((t - self.center) / temp, dim=-1).detach()
                         for t in teacher_out]
        self.diagnostics = self.collapse_diagnostics(teacher_out, temp)
        student_logp = [F.log_softmax(s / self.student_temp, dim=-1) for s in student_out]
        # Each teacher crop i against every student crop j != i. The student terms are
        # summed first (log-probabilities, all of one sign: no cancellation), so a step
        # makes a few passes over the (B, K) outputs instead of one per pair.
        num_global = len(teacher_probs)
        local_logp = sum(student_logp[num_global:]) if len(student_logp) > num_global else 0.
        total = 0.
        for i, q in enumerate(teacher_probs):
            others = sum(logp for j, logp in enumerate(student_logp[:num_global]) if j != i)
            total = total + torch.sum(-q * (others + local_logp), dim=-1).mean()
        num_terms = num_global * (len(student_logp) - 1)
        self.update_center(torch.cat(list(teacher_out)))
        loss = total / num_terms
        # Every teacher crop meets as many student crops, so the mean cross-entropy
        # minus the mean teacher entropy is the mean KL(P_t || P_s).
        self.diagnostics['teacher_student_kl'] = (
            loss.detach() - self.diagnostics['teacher_entropy'])
        return loss

    @torch.no_grad()
    def collapse_diagnostics(self, teacher_out: Sequence[torch.Tensor],
                             temp: float) -> Dict[str, torch.Tensor]:
        """Entropies of the centred, sharpened teacher (before the center update)."""
        teacher = torch.cat(list(teacher_out)).float()
        log_probs = F.log_softmax((teacher - self.center) / temp, dim=-1)
        probs = log_probs.exp()
        entropy = -(probs * log_probs).sum(dim=-1).mean()
        marginal = probs.mean(dim=0)
        marginal_entropy = -(marginal * marginal.clamp_min(1e-30).log()).sum()
        return dict(
            teacher_entropy=entropy,
            teacher_kl_uniform=math.log(probs.shape[-1]) - entropy,
            teacher_marginal_entropy=marginal_entropy)

    @torch.no_grad()
    def update_center(self, teacher_out: torch.Tensor) -> None:
        """EMA of the batch mean of the teacher outputs over all processes."""
        batch_center = teacher_out.sum(dim=0, keepdim=True)
        all_reduce(batch_center, op='sum')
        batch_center = batch_center / (len(teacher_out) * get_world_size())
        self.center.mul_(self.center_momentum).add_(
            batch_center, alpha=1 - self.center_momentum)
