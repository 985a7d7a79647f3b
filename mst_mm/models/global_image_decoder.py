"""The global image decoder of MST (Sec. 3.3): restore the whole crop from all tokens."""
from typing import Sequence

import torch
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

    Args:
        in_channels (int): Token width (384 for ViT-S).
        patch_size (int): Upsampling factor, a power of two (16 for ViT-S/16).
        channels (Sequence[int]): Width after each stride-2 stage; its length must be
            log2(patch_size). Defaults to (128, 64, 32, 16).
        out_channels (int): Image channels. Defaults to 3.
    """

    def __init__(self,
                 in_channels: int,
                 patch_size: int = 16,
                 channels: Sequence[int] = (128, 64, 32, 16),
                 out_channels: int = 3,
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        if 2**len(channels) != patch_size:
            raise ValueError(f'GlobalImageDecoder needs log2(patch_size)={patch_size} '
                             f'upsampling stages, got channels={tuple(channels)}.')
        layers, c_in = [], in_channels
        for c_out in channels:
            layers += [nn.ConvTranspose2d(c_in, c_out, kernel_size=2, stride=2), nn.GELU()]
            c_in = c_out
        layers.append(nn.Conv2d(c_in, out_channels, kernel_size=1))
        self.layers = nn.Sequential(*layers)

    def forward(self, patch_tokens: torch.Tensor, grid_size: Sequence[int]) -> torch.Tensor:
        """Restore images (B, out_channels, h*p, w*p) from patch tokens (B, h*w, C)."""
        batch_size, _, width = patch_tokens.shape
        x = patch_tokens.transpose(1, 2).reshape(batch_size, width, *grid_size)
        return self.layers(x)
