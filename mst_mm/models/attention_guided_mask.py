"""Attention-guided masking (MST, Sec. 3.2): choose which student patches to mask."""
import torch
from torch import nn

from mmpretrain.registry import MODELS


@MODELS.register_module()
class AttentionGuidedMaskGenerator(nn.Module):
    """Choose the patches of a global crop that the student sees as [MASK].

    The patches are ranked by the teacher's last-block [CLS] attention (averaged over
    heads). The ``candidate_ratio`` of them at the chosen end of the ranking are the
    candidates, and each candidate is masked independently with probability
    ``mask_prob``. The expected share of masked patches is therefore
    ``candidate_ratio * mask_prob`` whatever the strategy.

    Strategies:

    - ``'low'`` (MST): candidates are the LEAST attended patches, so the object the
      teacher looks at is never destroyed.
    - ``'random'`` (the paper's ablation): candidates are chosen uniformly, giving the
      same distribution of the number of masked patches.
    - ``'high'`` (AttMask-High): candidates are the MOST attended patches.

    Args:
        strategy (str): ``'low'``, ``'random'`` or ``'high'``. Defaults to ``'low'``.
        candidate_ratio (float): Share of the patches that may be masked, in [0, 1].
            Defaults to 0.5 (our choice; the paper does not give it).
        mask_prob (float): Probability that a candidate is masked, in [0, 1].
            Defaults to 0.5 (our choice), i.e. a quarter of the patches on average.
    """

    STRATEGIES = ('low', 'random', 'high')

    def __init__(self,
                 strategy: str = 'low',
                 candidate_ratio: float = 0.5,
                 mask_prob: float = 0.5) -> None:
        super().__init__()
        if strategy not in self.STRATEGIES:
            raise ValueError(f'Unknown mask strategy {strategy!r}; '
                             f'choose one of {self.STRATEGIES}.')
        for name, value in (('candidate_ratio', candidate_ratio),
                            ('mask_prob', mask_prob)):
            if not 0.0 <= float(value) <= 1.0:
                raise ValueError(f'{name} must lie in [0, 1], got {value}.')
        self.strategy = strategy
        self.candidate_ratio = float(candidate_ratio)
        self.mask_prob = float(mask_prob)

    @torch.no_grad()
    def forward(self, cls_attention: torch.Tensor) -> torch.Tensor:
        """Return a boolean mask (B, N), True where the patch is replaced by [MASK].

        Args:
            cls_attention (Tensor): The teacher's [CLS] attention over the N patches
                of each crop, shape (B, N).
        """
        batch_size, num_patches = cls_attention.shape
        num_candidates = int(round(self.candidate_ratio * num_patches))
        if self.strategy == 'random':
            scores = torch.rand_like(cls_attention, dtype=torch.float32)
        elif self.strategy == 'high':
            scores = -cls_attention.float()
        else:
            scores = cls_attention.float()
        # The candidates are the ``num_candidates`` lowest scores of each crop.
        order = scores.argsort(dim=1)
        candidates = torch.zeros_like(scores, dtype=torch.bool)
        candidates.scatter_(1, order[:, :num_candidates], True)
        drawn = torch.rand(batch_size, num_patches, device=cls_attention.device)
        return candidates & (drawn < self.mask_prob)

    def extra_repr(self) -> str:
        return (f'strategy={self.strategy!r}, candidate_ratio={self.candidate_ratio}, '
                f'mask_prob={self.mask_prob}')
