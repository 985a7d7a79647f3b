"""The DINO projection head (Caron et al., 2021), as MST uses it."""
import torch
import torch.nn.functional as F
from mmengine.model import BaseModule
from torch import nn

from mmpretrain.registry import MODELS


@MODELS.register_module()
class DINOHead(BaseModule):
    """MLP projection, L2 normalisation and a weight-normalised prototype layer.

    ``in_channels -> hidden -> hidden -> bottleneck`` (GELU between), then
    ``x / ||x||`` and ``W x`` with each row of ``W`` normalised to unit length: the
    weight normalisation of DINO's last layer with its norm fixed to 1
    (``norm_last_layer=True``). The last layer is frozen in the first epoch by
    :class:`FreezeLastLayerHook`.

    Initialisation as DINO's: the MLP's Linear layers trunc-normal (std 0.02) with zero
    bias; the last layer keeps ``nn.Linear``'s default initialisation.

    Args:
        in_channels (int): Width of the backbone's [CLS] token (384 for ViT-S).
        out_channels (int): Number of prototypes K. Defaults to 65536.
        hidden_channels (int): Width of the MLP. Defaults to 2048.
        bottleneck_channels (int): Width before the last layer. Defaults to 256.
        num_layers (int): Linear layers in the MLP. Defaults to 3.
    """

    def __init__(self,
                 in_channels: int,
                 out_channels: int = 65536,
                 hidden_channels: int = 2048,
                 bottleneck_channels: int = 256,
                 num_layers: int = 3,
                 init_cfg=None):
        super().__init__(init_cfg=init_cfg)
        widths = [in_channels] + [hidden_channels] * (num_layers - 1) + [bottleneck_channels]
        layers = []
        for i, (c_in, c_out) in enumerate(zip(widths[:-1], widths[1:])):
            layers.append(nn.Linear(c_in, c_out))
            if i < num_layers - 1:
                layers.append(nn.GELU())
        self.mlp = nn.Sequential(*layers)
        self.last_layer = nn.Linear(bottleneck_channels, out_channels, bias=False)

    def init_weights(self) -> None:
        if self.init_cfg:  # an explicit init_cfg replaces DINO's initialisation
            super().init_weights()
            return
        for module in self.mlp.modules():
            if isinstance(module, nn.Linear):
                nn.init.trunc_normal_(module.weight, std=0.02)
                nn.init.zeros_(module.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.normalize(self.mlp(x), dim=-1)
        return F.linear(x, F.normalize(self.last_layer.weight, dim=1))
