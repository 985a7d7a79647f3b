"""From the single-scale feature maps of a plain ViT to a feature pyramid."""
import math
from typing import List, Sequence, Tuple

import torch
from mmcv.cnn import build_norm_layer
from mmengine.model import BaseModule
from mmengine.registry import MODELS
from torch import nn


@MODELS.register_module()
class ViTMultiScaleNeck(BaseModule):
    """Resample the feature maps of several ViT blocks to a pyramid of strides.

    The dense transfer of self-supervised ViTs (BEiT, iBOT, MAE's ViTDet): each input
    map, all at the patch stride, is upsampled by stride-2 transposed convolutions
    (norm and GELU between two of them) or downsampled by 2x2 max pooling, by the
    factor given in ``scales``. For ViT-S/16 with ``scales=(4, 2, 1, 0.5)`` the
    outputs have strides 4, 8, 16 and 32, ready for an FPN. Registered in mmengine's
    root registry, so mmdet and mmseg configs find it.

    The outputs are NCHW-contiguous. A ViT's maps are its tokens permuted to
    ``(B, C, H, W)``, which is the channels-last layout, and convolutions keep it; mmcv's
    ``RoIAlign`` reads its input as if it were NCHW-contiguous and, given channels-last
    maps, returns features from the wrong places without an error (open-mmlab/mmcv#2203).
    On the toy detector that left every ViT row's box head at the prior (0.3 box AP).

    Args:
        in_channels (int): Width of the ViT features.
        scales (Sequence[float]): Resampling factor of each input map, powers of two.
        norm_cfg (dict): Norm between two upsampling steps. Defaults to BN; use
            SyncBN for multi-GPU training.
    """

    def __init__(self,
                 in_channels: int,
                 scales: Sequence[float] = (4, 2, 1, 0.5),
                 norm_cfg: dict = dict(type='BN'),
                 init_cfg=None) -> None:
        super().__init__(init_cfg=init_cfg)
        self.scales = tuple(scales)
        self.resamplers = nn.ModuleList(
            self._resampler(in_channels, scale, norm_cfg) for scale in self.scales)

    @staticmethod
    def _resampler(channels: int, scale: float, norm_cfg: dict) -> nn.Module:
        steps = math.log2(scale)
        if steps != int(steps):
            raise ValueError(f'ViTMultiScaleNeck scales must be powers of two, got {scale}.')
        steps = int(steps)
        if steps == 0:
            return nn.Identity()
        if steps < 0:
            return nn.Sequential(*[nn.MaxPool2d(2, 2) for _ in range(-steps)])
        layers: List[nn.Module] = []
        for i in range(steps):
            if i > 0:
                layers += [build_norm_layer(norm_cfg, channels)[1], nn.GELU()]
            layers.append(nn.ConvTranspose2d(channels, channels, kernel_size=2, stride=2))
        return nn.Sequential(*layers)

    def forward(self, inputs: Sequence[torch.Tensor]) -> Tuple[torch.Tensor, ...]:
        if len(inputs) != len(self.scales):
            raise ValueError(f'ViTMultiScaleNeck got {len(inputs)} feature maps for '
                             f'{len(self.scales)} scales; match the backbone out_indices.')
        # NCHW in, NCHW out: every layer after the pyramid then gets the layout mmcv's RoI
        # ops assume (a ViT's permuted tokens are channels-last).
        return tuple(resample(x.contiguous()) for resample, x in zip(self.resamplers, inputs))
