"""The multi-crop batch to normalised float views, without host-device synchronisation."""
from typing import Dict

import torch

from mmpretrain.models import SelfSupDataPreprocessor
from mmpretrain.registry import MODELS


@MODELS.register_module()
class MultiViewDataPreprocessor(SelfSupDataPreprocessor):
    """``SelfSupDataPreprocessor`` for the multi-crop views, sync-free on a GPU.

    mmpretrain's swaps BGR to RGB by indexing with a Python list
    (``x[:, [2, 1, 0]]``), which copies the index to the GPU from pageable memory and
    waits for it: one host-device synchronisation per view, ten per step with DINO's
    crops. Here the channels are reversed with ``flip`` on the uint8 views. The same
    arguments and the same output.
    """

    def forward(self, data: dict, training: bool = False) -> Dict[str, object]:
        views, data_samples = self.cast_data([data['inputs'], data['data_samples']])
        if isinstance(views, torch.Tensor):
            views = [views]
        if self._channel_conversion:
            views = [view.flip(1) for view in views]
        views = [view.float() for view in views]
        if self._enable_normalize:
            views = [(view - self.mean) / self.std for view in views]
        inputs = views if isinstance(data['inputs'], (list, tuple)) else views[0]
        return {'inputs': inputs, 'data_samples': data_samples}
