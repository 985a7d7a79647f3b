"""The global image decoder of MST (Sec. 3.3): restore the whole crop from all tokens."""
from typing import Sequence

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mmpretrain.registry import MODELS


@MODELS.register_module()
class GlobalImageDecoder(BaseModule):
    """A light convolutional decoder from the patch-token grid back to pixels.

    The student's output patch tokens of a masked global crop, masked and unmasked
    alike, are laid out on their (h, w) grid and upsampled by ``patch_size`` with a
    stack of stride-2 transposed convolutions (GELU between), then a 1x1 convolution
    gives the image. It is used only in pre-training and is not exported with the
    backbone.

    A 2x2, stride-2 transposed convolution never overlaps: each input pixel alone
    gives its own 2x2 output block. So the whole stack is a per-token computation, and
    ``implementation='matmul'`` (the default) runs it as one matrix product per stage
    on the tokens, each stage folding its 2x2 sub-positions into the rows, and a single
    pixel shuffle at the end. It is the same function of the same parameters as
    ``implementation='conv'`` (the transposed convolutions themselves), at a fraction
    of their cost on CPU and GPU.

    Args:
        in_channels (int): Token width (384 for ViT-S).
        patch_size (int): Upsampling factor, a power of two (16 for ViT-S/16).
        channels (Sequence[int]): Width after each stride-2 stage; its length must be
            log2(patch_size). Defaults to (128, 64, 32, 16).
        out_channels (int): Image channels. Defaults to 3.
        implementation (str): ``'matmul'`` or ``'conv'``; the same outputs and
            gradients. Defaults to ``'matmul'``.
    """

    def __init__(self,
                 in_channels: int,
                 patch_size: int = 16,
                 channels: Sequence[int] = (128, 64, 32, 16),
                 out_channels: int = 3,
                 implementation: str = 'matmul',
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if 2**len(channels) != patch_size:
            raise ValueError(f'GlobalImageDecoder needs log2(patch_size)={patch_size} '
                             f'upsampling stages, got channels={tuple(channels)}.')
        if implementation not in ('matmul', 'conv'):
            raise ValueError("GlobalImageDecoder implementation must be 'matmul' or "
                             f"'conv', got {implementation!r}.")
        self.implementation = implementation
        layers, c_in = [], in_channels
        for c_out in channels:
            layers += [nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2), nn.GELU()]
            c_in = c_out
        layers.append(nn.Conv2d(c_in, out_channels, kernel_size=1))
        self.layers = nn.Sequential(*layers)

    def forward(self, patch_tokens: torch.Tensor, grid_size: Sequence[int]) -> torch.Tensor:
        """Restore images (B, out_channels, h*p, w*p) from patch tokens (B, h*w, C)."""
        if self.implementation == 'matmul':
            return self.forward_matmul(patch_tokens, grid_size)
        batch_size, _, width = patch_tokens.shape
        x = patch_tokens.transpose(1, 2).reshape(batch_size, width, *grid_size)
        return self.layers(x)

    def forward_matmul(self, patch_tokens: torch.Tensor,
                       grid_size: Sequence[int]) -> torch.Tensor:
        """The transposed convolutions as per-token matrix products, then one shuffle."""
        batch_size, _, width = patch_tokens.shape
        h, w = grid_size
        *upsample, to_pixels = [m for m in self.layers if not isinstance(m, nn.GELU)]
        x = patch_tokens.reshape(-1, width)  # rows: (b, i, j)
        for conv in upsample:
            # weight (c_in, c_out, 2, 2) -> (2 * 2 * c_out, c_in), rows ordered (dy, dx, o)
            c_in, c_out = conv.weight.shape[:2]
            x = x.reshape(-1, c_in)
            weight = conv.weight.permute(2, 3, 1, 0).reshape(4 * c_out, c_in)
            x = F.gelu(F.linear(x, weight, conv.bias.repeat(4)))
        # The 1x1 convolution on each of the last stage's 2x2 sub-positions: one
        # block-diagonal product on the last stage's rows, a better shape for the
        # matrix kernels than a product with 3 columns on four times the rows.
        pixel_weight = torch.block_diag(*[to_pixels.weight.flatten(1)] * 4)
        x = F.linear(x, pixel_weight, to_pixels.bias.repeat(4))
        # rows: (b, i, j, dy1, dx1, ..., dy(k-1), dx(k-1)), columns: (dyk, dxk, c)
        stages = len(upsample)
        x = x.view(batch_size, h, w, *([2, 2] * stages), to_pixels.out_channels)
        # pixel shuffle: (b, c, i, dy1..dyk, j, dx1..dxk)
        order = ([0, x.dim() - 1, 1] + [3 + 2 * s for s in range(stages)] + [2] +
                 [4 + 2 * s for s in range(stages)])
        return x.permute(order).reshape(batch_size, -1, h * 2**stages, w * 2**stages)
