"""mmpretrain's ViT initialised as DINO's ViT (Caron et al., 2021)."""
import torch
from torch import nn

from mmpretrain.models import VisionTransformer
from mmpretrain.registry import MODELS


def is_pretrained_init(init_cfg) -> bool:
    """Whether an ``init_cfg`` (a dict or a list of them) loads a checkpoint."""
    cfgs = init_cfg if isinstance(init_cfg, (list, tuple)) else [init_cfg]
    return any(isinstance(c, dict) and c.get('type') == 'Pretrained' for c in cfgs)


@MODELS.register_module()
class DINOVisionTransformer(VisionTransformer):
    """``VisionTransformer`` with DINO's initialisation of a ViT trained from scratch.

    DINO's ViT initialises every ``nn.Linear`` trunc-normal (std 0.02) with zero bias,
    every ``nn.LayerNorm`` to weight 1 and bias 0, and the [CLS] token and position
    embedding trunc-normal (std 0.02); the patch embedding keeps PyTorch's default.
    mmpretrain instead re-initialises the FFN with xavier after any ``init_cfg`` and
    leaves the [CLS] token at zero. A backbone loaded from a checkpoint
    (``init_cfg=dict(type='Pretrained', ...)``) is left as loaded.

    The drop-path probabilities are Python floats (mmpretrain leaves numpy scalars,
    on which ``torch.compile`` breaks every block's graph at each drop path).

    Same arguments and weights (state-dict keys) as ``VisionTransformer``.
    """

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for module in self.modules():
            if hasattr(module, 'drop_prob'):
                module.drop_prob = float(module.drop_prob)

    def init_weights(self) -> None:
        super().init_weights()
        if is_pretrained_init(self.init_cfg):
            return
        dino_vit_init_(self)


@torch.no_grad()
def dino_vit_init_(vit: VisionTransformer) -> None:
    """Initialise ``vit`` in place as DINO's ``VisionTransformer`` does."""
    for module in vit.modules():
        if isinstance(module, nn.Linear):
            nn.init.trunc_normal_(module.weight, std=0.02)
            if module.bias is not None:
                nn.init.zeros_(module.bias)
        elif isinstance(module, nn.LayerNorm):
            nn.init.ones_(module.weight)
            nn.init.zeros_(module.bias)
    for name in ('cls_token', 'pos_embed'):
        param = getattr(vit, name, None)
        if param is not None:
            nn.init.trunc_normal_(param, std=0.02)
