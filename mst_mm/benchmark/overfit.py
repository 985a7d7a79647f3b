"""Overfitting a full transfer config on a few training images: does the model learn?

A detector or segmentor that cannot fit two images it is trained on has a bug that no
benchmark number will show until weeks of GPU time are spent (the RoIAlign layout bug
trained every ViT detector to the floor without an error). ``overfit_options`` turns a
config into that check: the first ``images`` training images as one batch, ``iters``
iterations with the config's own optimizer, a short linear warm-up and no decay, then
the test on the same images with the config's evaluator. ``TARGETS`` are the figures a
working model reaches.
"""
from typing import Dict, List, Tuple

from mmengine.config import Config

#: The metric of each kind of config, and the figure a model that fits its training
#: images reaches (COCO box AP in [0, 1], mIoU in percent).
TARGETS = {'mmdet': ('coco/bbox_mAP', 0.5), 'mmseg': ('mIoU', 60.)}


def metric_and_target(cfg: Config) -> Tuple[str, float]:
    scope = cfg.get('default_scope')
    if scope not in TARGETS:
        raise ValueError(f'{cfg.filename}: an overfit check needs a detection or '
                         f'segmentation config (default_scope mmdet or mmseg), not {scope}')
    return TARGETS[scope]


def _scaled(size, scale: float):
    return tuple(max(32, int(round(s * scale / 32)) * 32) for s in size)


def _pipeline_index(pipeline, *types: str) -> List[int]:
    return [i for i, t in enumerate(pipeline) if str(t['type']).split('.')[-1] in types]


def input_scale_options(cfg: Config, scale: float) -> List[str]:
    """The input sizes of the train and test pipelines (and the segmentors' crops and
    slides) times ``scale``, in multiples of 32."""
    if scale == 1.0:
        return []
    options = []
    for loader in ('train_dataloader', 'test_dataloader'):
        pipeline = cfg[loader].dataset.pipeline
        for i in _pipeline_index(pipeline, 'Resize', 'RandomResize'):
            size = _scaled(pipeline[i]['scale'], scale)
            options.append(f'{loader}.dataset.pipeline.{i}.scale=({size[0]},{size[1]})')
        for i in _pipeline_index(pipeline, 'RandomCrop'):
            size = _scaled(pipeline[i]['crop_size'], scale)
            options.append(f'{loader}.dataset.pipeline.{i}.crop_size=({size[0]},{size[1]})')
    test_cfg = cfg.model.get('test_cfg') or {}
    if test_cfg.get('mode') == 'slide':
        crop, stride = _scaled(test_cfg['crop_size'], scale), _scaled(test_cfg['stride'], scale)
        options += [f'model.test_cfg.crop_size=({crop[0]},{crop[1]})',
                    f'model.test_cfg.stride=({stride[0]},{stride[1]})']
    size = (cfg.model.get('data_preprocessor') or {}).get('size')
    if size:
        size = _scaled(size, scale)
        options.append(f'model.data_preprocessor.size=({size[0]},{size[1]})')
    return options


def overfit_options(cfg: Config, images: int, iters: int, data_root: str = None,
                    scale: float = 1.0) -> Dict[str, List[str]]:
    """``--cfg-options`` of the training and of the test of the overfit check."""
    metric_and_target(cfg)
    warmup = max(1, min(50, iters // 10))
    train = cfg.train_dataloader.dataset
    root = data_root or train.data_root
    loaders = [f'train_dataloader.batch_size={images}',
               f'train_dataloader.dataset.indices={images}',
               f'train_dataloader.dataset.data_root={root}',
               'train_dataloader.num_workers=0', 'train_dataloader.persistent_workers=False',
               # the test on the training images themselves
               f'test_dataloader.dataset.indices={images}',
               f'test_dataloader.dataset.data_root={root}',
               'test_dataloader.num_workers=0', 'test_dataloader.persistent_workers=False']
    if train.get('ann_file'):
        loaders.append(f'test_dataloader.dataset.ann_file={train.ann_file}')
        loaders.append(f'test_evaluator.ann_file={root.rstrip("/")}/{train.ann_file}')
    for key, value in (train.get('data_prefix') or {}).items():
        loaders.append(f'test_dataloader.dataset.data_prefix.{key}={value}')
    if cfg.train_cfg.get('max_iters'):  # iteration-based: warm-up, then a poly decay
        schedule = [f'train_cfg.max_iters={iters}', f'train_cfg.val_begin={iters + 1}',
                    f'default_hooks.checkpoint.interval={iters}',
                    f'param_scheduler.0.end={warmup}', f'param_scheduler.1.begin={warmup}',
                    f'param_scheduler.1.end={iters}', 'param_scheduler.1.power=0.0']
    else:  # epoch-based with one batch an epoch: warm-up by iteration, no lr steps
        schedule = [f'train_cfg.max_epochs={iters}', f'train_cfg.val_interval={iters + 1}',
                    f'train_cfg.val_begin={iters + 1}',
                    f'default_hooks.checkpoint.interval={iters}',
                    f'param_scheduler.0.end={warmup}', f'param_scheduler.1.end={iters}',
                    f'param_scheduler.1.milestones=[{iters + 1}]']
    common = loaders + input_scale_options(cfg, scale)
    return dict(train=common + schedule + ['default_hooks.logger.interval=10'], test=common)
