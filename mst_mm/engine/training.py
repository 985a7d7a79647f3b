"""What ``tools/train.py`` does to a config before the Runner is built.

``build_training_config`` reads the config the user named and applies the command
line's choices (work dir, mixed precision, TensorBoard, learning-rate scaling, a
pre-trained backbone), checks it (``check_training_config``), makes the run resumable
(exact mid-epoch resume, a checkpoint on preemption, a log of the batch and learning
rate), stops it at the first non-finite loss, and picks the checkpoint to resume from.
Every refusal is a :class:`ConfigError` whose message names the file or the key.
"""
import fcntl
import os
import os.path as osp
from typing import Optional

import torch
from mmengine.config import Config
from mmengine.logging import MMLogger

from .config_checks import ConfigError, check_training_config
from .resume import ResumeError, check_resume_checkpoint, find_resume_checkpoint


def build_training_config(config: str, cfg_options: Optional[dict] = None,
                          work_dir: Optional[str] = None, amp: Optional[str] = None,
                          tensorboard: bool = False, auto_scale_lr: Optional[bool] = None,
                          resume: Optional[str] = 'auto') -> Config:
    """The Runner config of a training run.

    Args:
        config: The config file.
        cfg_options: ``--cfg-options``; ``pretrained=PATH`` also points a transfer
            config's backbone at PATH.
        work_dir: Default: the config's, else ``work_dirs/<config name>``.
        amp: ``'fp16'`` (dynamic loss scale) or ``'bf16'`` (no loss scale): mmengine's
            ``AmpOptimWrapper``.
        tensorboard: Also log for TensorBoard.
        auto_scale_lr: Scale the learning rate by the real batch (True), train at the
            config's value (False), or keep the config's choice (None).
        resume: A checkpoint, ``'auto'`` (the work dir's newest complete one, if any) or
            None (start over).
    """
    if not osp.isfile(config):
        raise ConfigError(f'Config file not found: {config}')
    cfg_options = cfg_options or {}
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(cfg_options)
    if 'pretrained' in cfg_options:
        set_pretrained(cfg, cfg_options['pretrained'])
    if work_dir:
        cfg.work_dir = work_dir
    elif cfg.get('work_dir') is None:
        cfg.work_dir = osp.join('work_dirs', osp.splitext(osp.basename(config))[0])
    if amp:
        set_amp(cfg, amp)
    if tensorboard:
        backends = list(cfg.visualizer.get('vis_backends') or [dict(type='LocalVisBackend')])
        backends.append(dict(type='TensorboardVisBackend'))
        cfg.visualizer.vis_backends = backends
    if auto_scale_lr is not None:
        if auto_scale_lr and not (cfg.get('auto_scale_lr') or {}).get('base_batch_size'):
            raise ConfigError(f'--auto-scale-lr: {config} sets no '
                              'auto_scale_lr.base_batch_size to scale from.')
        cfg.setdefault('auto_scale_lr', {})['enable'] = auto_scale_lr
    try:
        check_training_config(cfg)
    except ConfigError as e:
        raise ConfigError(f'{config}: {e}') from None
    make_resumable(cfg)
    stop_on_non_finite(cfg)
    set_resume(cfg, resume)
    return cfg


def set_amp(cfg: Config, amp: str) -> None:
    """Train with ``AmpOptimWrapper``: ``'fp16'`` or ``'bf16'``."""
    if cfg.optim_wrapper.get('type', 'OptimWrapper') == 'AmpOptimWrapper':
        print('AMP is already on in this config.')
        return
    cfg.optim_wrapper.type = 'AmpOptimWrapper'
    if amp == 'bf16':
        cfg.optim_wrapper.dtype = 'bfloat16'
        cfg.optim_wrapper.setdefault('loss_scale', dict(enabled=False))
    else:
        cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')


def set_resume(cfg: Config, resume) -> None:
    """Resume from ``resume`` ('auto': the work dir's newest complete checkpoint, if any).

    The checkpoint is checked before anything is written: a file that is not a training
    checkpoint of this config's model, or a work dir whose checkpoints are all unreadable,
    stops the run with the reason.
    """
    if resume is None:
        return
    try:
        if resume == 'auto':
            resume = find_resume_checkpoint(cfg.work_dir, MMLogger.get_current_instance())
            if resume is None:
                return
            print(f'Resuming from {resume}, the newest checkpoint in {cfg.work_dir} '
                  '(--no-resume starts over).', flush=True)
        check_resume_checkpoint(resume, cfg)
    except ResumeError as e:
        raise ConfigError(f'--resume: {e}') from None
    cfg.resume, cfg.load_from = True, resume


def make_resumable(cfg: Config) -> None:
    """Exact mid-epoch resume for epoch-based training, a checkpoint on preemption, and
    a log line with the batch and learning rate the run trains with."""
    train_cfg = cfg.get('train_cfg') or {}
    if train_cfg.get('type', 'EpochBasedTrainLoop' if train_cfg.get('by_epoch') else None) \
            in ('EpochBasedTrainLoop', 'mmengine.EpochBasedTrainLoop'):
        train_cfg.pop('by_epoch', None)
        train_cfg['type'] = 'mmengine.ExactResumeEpochBasedTrainLoop'
    add_hooks(cfg, 'PreemptionCheckpointHook', 'BatchAndLrLogHook')


def stop_on_non_finite(cfg: Config) -> None:
    """Stop at the first non-finite loss, and never save non-finite weights."""
    add_hooks(cfg, 'NonFiniteCheckHook')


def add_hooks(cfg: Config, *hooks: str) -> None:
    """Add each of ``hooks`` (this package's, in mmengine's registry) to
    ``custom_hooks`` unless the config has it already."""
    custom_hooks = list(cfg.get('custom_hooks') or [])
    for hook in hooks:
        if not any(hook in str(h.get('type')) for h in custom_hooks):
            custom_hooks.append(dict(type=f'mmengine.{hook}'))
    cfg.custom_hooks = custom_hooks


def set_pretrained(cfg: Config, checkpoint: str) -> None:
    """Point the backbone's init_cfg at ``checkpoint`` (the config's ``pretrained``)."""
    if 'pretrained' not in cfg._cfg_dict or 'backbone' not in cfg.get('model', {}):
        raise ConfigError('pretrained=... applies to transfer configs, which define a '
                          f'top-level `pretrained`; {cfg.filename} does not.')
    if not osp.isfile(checkpoint):
        raise ConfigError(f'pretrained checkpoint not found: {checkpoint}')
    cfg.model.backbone.init_cfg = dict(type='Pretrained', checkpoint=checkpoint)


def lock_work_dir(work_dir: str):
    """Refuse to start while another run trains in the same work dir.

    An exclusive lock on WORK_DIR/.train.lock, held by the first process (rank 0) for
    its lifetime and released by the system when it ends, however it ends.
    """
    os.makedirs(work_dir, exist_ok=True)
    handle = open(osp.join(work_dir, '.train.lock'), 'a')
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        raise ConfigError(f'{work_dir} is in use by another training run (lock '
                          f'{handle.name}); wait for it to end or use another --work-dir.')
    return handle


def check_device(cfg: Config) -> None:
    """What the config needs of this machine, before anything is built.

    Mixed precision (mmengine's ``AmpOptimWrapper``) trains on a GPU only: on a CPU it
    stops with an assertion deep in mmengine. Before a detector trains or tests on a
    GPU, one tiny RoIAlign runs there: see :func:`check_mmcv_ops_on_device`.
    """
    optim_wrapper = cfg.get('optim_wrapper') or {}
    if (str(optim_wrapper.get('type', '')).split('.')[-1] == 'AmpOptimWrapper'
            and not torch.cuda.is_available()):
        raise ConfigError('optim_wrapper.type=AmpOptimWrapper (--amp): mixed precision '
                          "trains on a GPU only (mmengine's AmpOptimWrapper), and none is "
                          'visible here.')
    check_mmcv_ops_on_device(cfg)


def check_mmcv_ops_on_device(cfg: Config) -> None:
    """Before a detector trains or tests on a GPU, run one tiny RoIAlign there.

    mmcv built without its CUDA ops (on a machine without a GPU, or as ``mmcv-lite``)
    imports and builds Mask R-CNN, and fails only at the first RoI. Asking mmcv for its
    CUDA version is no check: ``get_compiling_cuda_version()`` has been seen to
    segfault with a build whose ops run.
    """
    if cfg.get('default_scope') != 'mmdet' or not torch.cuda.is_available():
        return
    try:
        from mmcv.ops import RoIAlign
        features = torch.arange(16., device='cuda').view(1, 1, 4, 4)
        rois = torch.tensor([[0., 0., 0., 3., 3.]], device='cuda')
        roi_align = RoIAlign((2, 2), 1.0, sampling_ratio=2, aligned=True)
        pooled = roi_align(features, rois).cpu()
        expected = roi_align(features.cpu(), rois.cpu())  # mmcv's CPU kernel
    except Exception as error:  # whatever the build lacks: a missing op, a kernel
        import mmcv
        raise ConfigError(
            f'mmcv {mmcv.__version__} cannot run RoIAlign on the GPU ({type(error).__name__}: '
            f'{str(error).splitlines()[0] if str(error) else ""}). Mask R-CNN needs mmcv '
            "built with its CUDA ops on a GPU node: run tools/setup_env.sh there (it builds "
            'them when a GPU is visible; remove a cached CPU-only mmcv wheel first).') from None
    if not torch.allclose(pooled, expected, atol=1e-5):
        raise ConfigError(f'mmcv RoIAlign on the GPU gave {pooled.flatten().tolist()}, its '
                          f'CPU kernel {expected.flatten().tolist()}: its CUDA ops are broken '
                          'on this node.')
