"""Training hooks that DINO's recipe needs and mmengine does not have."""
from typing import Optional

import torch
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.registry import HOOKS as MMENGINE_HOOKS

from mmpretrain.registry import HOOKS

from ..models.vit_converters import (CheckpointError, load_checkpoint_file,
                                      mmpretrain_vit_shape)


def clip_grad_norm_per_tensor_(grads, max_norm: float) -> torch.Tensor:
    """DINO's ``clip_gradients``: scale each gradient tensor whose L2 norm exceeds
    ``max_norm`` down to it, each on its own. Returns the norm of all the gradients
    together before clipping, for the log. No host-device synchronisation, and a few
    multi-tensor kernels for all the gradients of a device and dtype."""
    grads = [g.detach() for g in grads]
    norms = torch.stack([n.to(grads[0].device) for n in torch._foreach_norm(grads, 2.0)])
    scales = (max_norm / (norms + 1e-6)).clamp(max=1.0)
    groups = {}
    for grad, scale in zip(grads, scales.unbind()):
        groups.setdefault((grad.device, grad.dtype), ([], []))
        groups[(grad.device, grad.dtype)][0].append(grad)
        groups[(grad.device, grad.dtype)][1].append(scale.to(grad.device, grad.dtype))
    for tensors, factors in groups.values():
        torch._foreach_mul_(tensors, factors)
    return torch.linalg.vector_norm(norms, 2.0)


@MMENGINE_HOOKS.register_module()
class ClipGradHook(Hook):
    """Clip the gradients right before each optimizer step, as DINO does.

    ``per_tensor=True`` (DINO's ``clip_gradients``, the default) clips the norm of each
    parameter tensor's gradient to ``max_norm`` on its own; ``per_tensor=False`` clips
    the norm of all of them together (``torch.nn.utils.clip_grad_norm_``, what mmengine's
    ``optim_wrapper.clip_grad`` does). It runs as an optimizer step pre-hook registered
    after :class:`FreezeLastLayerHook`'s (lower priority), so a gradient dropped for the
    frozen last layer never counts in the clipping, and after AMP's unscaling. The norm
    of all gradients before clipping is logged as ``grad_norm``.

    Args:
        max_norm (float): The largest norm kept. Defaults to 3.0 (DINO).
        per_tensor (bool): Clip each tensor's norm (True) or the global norm (False).
            Defaults to True.
    """

    priority = 'LOW'

    def __init__(self, max_norm: float = 3.0, per_tensor: bool = True) -> None:
        if max_norm <= 0:
            raise ValueError(f'ClipGradHook: max_norm must be positive, got {max_norm}.')
        self.max_norm = float(max_norm)
        self.per_tensor = per_tensor
        self._handle = None
        self._message_hub = None

    def before_train(self, runner) -> None:
        if getattr(runner.optim_wrapper, 'clip_grad_kwargs', None):
            raise ValueError('ClipGradHook clips the gradients and optim_wrapper.clip_grad '
                             'is set too: keep one of them (set optim_wrapper.clip_grad '
                             'to None).')
        self._message_hub = runner.message_hub
        self._handle = runner.optim_wrapper.optimizer.register_step_pre_hook(self._clip)

    def after_train(self, runner) -> None:
        if self._handle is not None:
            self._handle.remove()
            self._handle = None

    def _clip(self, optimizer, args, kwargs) -> None:
        grads = [p.grad for group in optimizer.param_groups for p in group['params']
                 if p.grad is not None]
        if not grads:
            return
        if self.per_tensor:
            total = clip_grad_norm_per_tensor_(grads, self.max_norm)
        else:
            total = torch.nn.utils.clip_grad_norm_(
                [p for group in optimizer.param_groups for p in group['params']
                 if p.grad is not None], self.max_norm)
        self._message_hub.update_scalar('train/grad_norm', total)


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


@MMENGINE_HOOKS.register_module()
class BatchAndLrLogHook(Hook):
    """Log, at the start of training, the batch the run trains with (processes x images
    per process) and the peak learning rate of each parameter group after the linear
    scaling rule (``auto_scale_lr``), so a run on another number of GPUs says what it
    does. ``tools/train.py`` adds it to every config."""

    priority = 'LOWEST'

    def before_train(self, runner) -> None:
        loader = runner.train_dataloader
        per_process = loader.batch_size if loader.batch_size is not None else getattr(
            loader.batch_sampler, 'batch_size', None)
        total = None if per_process is None else per_process * runner.world_size
        scaling = runner.cfg.get('auto_scale_lr') or {}
        optim_wrappers = getattr(runner.optim_wrapper, 'optim_wrappers', None) or {
            '': runner.optim_wrapper}
        peaks = sorted({float(group.get('initial_lr', group['lr']))
                        for wrapper in optim_wrappers.values()
                        for group in wrapper.optimizer.param_groups}, reverse=True)
        rule = (f"scaled from base_batch_size {scaling['base_batch_size']}"
                if scaling.get('enable') else 'not scaled (auto_scale_lr off)')
        runner.logger.info(
            f'Batch: {runner.world_size} process(es) x {per_process} images = {total} '
            f'per iteration; learning rate {", ".join(f"{lr:.4g}" for lr in peaks[:4])}'
            f'{" ..." if len(peaks) > 4 else ""} (peak per parameter group, {rule}).')


@MMENGINE_HOOKS.register_module()
class PretrainedBackboneCheckHook(Hook):
    """Say what the backbone loaded from its pre-trained checkpoint; stop if it did not.

    Before training, compares the backbone's weights with the file named by its
    ``init_cfg=dict(type='Pretrained', checkpoint=...)``: logs how many tensors were
    loaded, which were resized (position embeddings for another input size), missing or
    unexpected, and raises if any tensor of the transformer (``required_prefixes``) did
    not load: a wrong file or prefix would otherwise silently train from random weights
    and make a whole benchmark row wrong. A ViT of another size (a ViT-B/16 file for a
    ViT-S/16 config) is refused with both sizes named. Registered in mmengine's root
    registry, so mmdet, mmseg and mmpretrain configs find it.

    Args:
        required_prefixes (Sequence[str]): Backbone keys that must load.
    """

    priority = 'VERY_HIGH'

    def __init__(self, required_prefixes=('patch_embed.', 'layers.')) -> None:
        self.required_prefixes = tuple(required_prefixes)

    def before_train(self, runner) -> None:
        if runner._resume or runner._load_from:
            runner.logger.info('Backbone weights come from the resumed/loaded checkpoint.')
            return
        model = runner.model.module if is_model_wrapper(runner.model) else runner.model
        self.check(model.backbone, runner.logger)

    def check(self, backbone, logger) -> dict:
        init_cfgs = backbone.init_cfg if isinstance(backbone.init_cfg, list) else [
            backbone.init_cfg]
        pretrained = next((c for c in init_cfgs if c and c.get('type') == 'Pretrained'), None)
        if pretrained is None:
            logger.info('Backbone: random initialisation (no Pretrained init_cfg).')
            return {}
        path, prefix = pretrained['checkpoint'], pretrained.get('prefix')
        state = load_checkpoint_file(path)
        state = state.get('state_dict', state)
        if prefix:
            prefix = prefix if prefix.endswith('.') else prefix + '.'
            state = {k[len(prefix):]: v for k, v in state.items() if k.startswith(prefix)}
        result = dict(loaded=[], resized=[], missing=[], differs=[],
                      unexpected=sorted(set(state) - set(backbone.state_dict())))
        for key, value in backbone.state_dict().items():
            if key not in state:
                result['missing'].append(key)
            elif state[key].shape != value.shape:
                (result['resized'] if key == 'pos_embed' else result['differs']).append(key)
            elif torch.equal(state[key].to(value.device, value.dtype), value):
                result['loaded'].append(key)
            else:
                result['differs'].append(key)
        total = len(backbone.state_dict())
        logger.info(f'Backbone: loaded {len(result["loaded"])}/{total} tensors from {path}'
                    + (f'; resized {result["resized"]}' if result['resized'] else '')
                    + (f'; missing {result["missing"]}' if result['missing'] else '')
                    + (f'; unexpected {result["unexpected"][:10]}'
                       if result['unexpected'] else '')
                    + (f'; not as in the file {result["differs"]}'
                       if result['differs'] else ''))
        failed = [k for k in result['missing'] + result['differs']
                  if k.startswith(self.required_prefixes)]
        mismatch = self.size_mismatch(state, backbone) if failed else None
        if mismatch:
            raise RuntimeError(
                f'The pre-trained backbone did not load from {path}: {mismatch}. Use a '
                'config of the checkpoint\'s ViT size (vit-small-p16, vit-base-p16, ... in '
                'its name), or a checkpoint of the config\'s (extract_backbone.py --arch '
                'refuses another size).')
        if failed:
            raise RuntimeError(
                f'The pre-trained backbone did not load from {path}: {len(failed)} '
                f'transformer tensors missing or different (e.g. {failed[:3]}); '
                f'{len(result["unexpected"])} unexpected keys in the file (e.g. '
                f'{result["unexpected"][:3]}). Convert the checkpoint with '
                'tools/model_converters/extract_backbone.py, or fix init_cfg.prefix.')
        return result

    @staticmethod
    def size_mismatch(state: dict, backbone) -> Optional[str]:
        """The reason when the file holds a ViT of another size than the backbone."""
        try:
            found = mmpretrain_vit_shape(state)
            expected = mmpretrain_vit_shape(backbone.state_dict())
        except CheckpointError:  # not a ViT (state dict) of mmpretrain's key names
            return None
        if found == expected:
            return None
        return f'the file holds a ViT of {found}, the config\'s backbone is {expected}'
