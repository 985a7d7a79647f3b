"""Training hooks that DINO's recipe needs and mmengine does not have."""
from typing import Optional

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class FreezeLastLayerHook(Hook):
    """Keep the DINO head's last layer fixed during the first epochs.

    DINO's ``freeze_last_layer``: during the first ``num_epochs`` epochs the gradients of
    the parameters under ``prefix`` are dropped right before each optimizer step (after
    the all-reduce and the gradient clipping), so the optimizer leaves them untouched:
    no update, no weight decay, no moment.

    Args:
        num_epochs (int): Epochs during which the layer is frozen. Defaults to 1.
        prefix (str): Parameter-name prefix of the frozen layer in the model.
            Defaults to ``'head.last_layer'``.
    """

    priority = 'NORMAL'

    def __init__(self, num_epochs: int = 1, prefix: str = 'head.last_layer') -> None:
        self.num_epochs = num_epochs
        self.prefix = prefix
        self.frozen = False
        self._params = []
        self._handle: Optional[object] = None

    def before_train(self, runner) -> None:
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self._params = [p for name, p in model.named_parameters()
                        if name.startswith(self.prefix)]
        if not self._params:
            raise KeyError(f'FreezeLastLayerHook: the model has no parameter under '
                           f'{self.prefix!r}; check the hook\'s prefix.')
        self._handle = runner.optim_wrapper.optimizer.register_step_pre_hook(
            self._drop_gradients)

    def before_train_iter(self, runner, batch_idx: int, data_batch=None) -> None:
        self.frozen = runner.epoch < self.num_epochs

    def after_train(self, runner) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _drop_gradients(self, optimizer, args, kwargs) -> None:
        if self.frozen:
            for param in self._params:
                param.grad = None
