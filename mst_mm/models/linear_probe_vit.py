"""The frozen ViT of DINO's linear and k-NN evaluation protocols."""
from typing import Sequence, Union

import torch

from mmpretrain.registry import MODELS

from .dino_vit import DINOVisionTransformer


@MODELS.register_module()
class LinearProbeViT(DINOVisionTransformer):
    """mmpretrain's ViT, frozen, giving DINO's evaluation features.

    The output is the concatenation of the [CLS] tokens of the ``out_indices`` blocks,
    each through the final LayerNorm (DINO's ``get_intermediate_layers``): the last 4
    blocks for ViT-S linear evaluation, the last one for k-NN. With ``avgpool_patch_tokens``
    the average-pooled, normalised patch tokens of the last of those blocks are added
    (DINO's choice for ViT-B). All weights are frozen and the backbone stays in eval
    mode, so it loads any converted ViT checkpoint and never changes. Without a
    checkpoint (the random-initialisation floor) it is initialised as DINO's ViT.

    Args:
        out_indices (Sequence[int] | int): Blocks whose [CLS] tokens are used.
            Defaults to the last 4.
        avgpool_patch_tokens (bool): Also use the mean patch token. Defaults to False.
        **kwargs: The arguments of ``VisionTransformer`` (arch, patch_size, init_cfg...).
    """

    def __init__(self,
                 out_indices: Union[Sequence[int], int] = (-4, -3, -2, -1),
                 avgpool_patch_tokens: bool = False,
                 **kwargs) -> None:
        if not isinstance(out_indices, int):
            out_indices = list(out_indices)  # mmpretrain resolves negative indices in place
        super().__init__(out_indices=out_indices, out_type='raw', final_norm=True, **kwargs)
        self.avgpool_patch_tokens = avgpool_patch_tokens
        self.requires_grad_(False)
        self.eval()

    def train(self, mode: bool = True) -> 'LinearProbeViT':
        return super().train(False)

    def forward(self, x: torch.Tensor):
        last = len(self.layers) - 1
        # The forward already normalised the last block's tokens.
        tokens = [out if index == last else self.ln1(out)
                  for index, out in zip(self.out_indices, super().forward(x))]
        features = [t[:, 0] for t in tokens]
        if self.avgpool_patch_tokens:
            features.append(tokens[-1][:, self.num_extra_tokens:].mean(dim=1))
        return (torch.cat(features, dim=-1), )
