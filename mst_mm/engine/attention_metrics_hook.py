"""Log MST's mechanism figures during pre-training, so a run shows its attention find
the objects."""
import os.path as osp
import time
from typing import Optional

from mmengine.dist import is_main_process
from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper

from mmpretrain.registry import HOOKS

from ..evaluation.attention_metrics import METRIC_KEYS, CocoCrops, global_crop_size, measure


@HOOKS.register_module()
class AttentionMetricsHook(Hook):
    """Measure the figures of :mod:`mst_mm.evaluation.attention_metrics` on a small
    held-out COCO-format set every ``interval`` epochs and log them as scalars.

    The scalars ``{prefix}/attn_object_ratio``, ``{prefix}/attn_jaccard60``,
    ``{prefix}/masked_on_object_{low,random,high}`` and ``{prefix}/restore_psnr`` (the
    means over the set) go to the visualizer's backends at the current iteration
    (TensorBoard with ``tools/train.py --tensorboard``), to the message hub and to the
    log. The set is read once, before training. The measurement runs on the main
    process, in eval mode, with its own seeded random draws: the training's random
    stream is untouched.

    A missing annotation file is reported with a warning and switches the hook off (the
    figures are a diagnostic; the run goes on).

    Args:
        ann_file (str): COCO-format instance annotations.
        img_dir (str): Folder of the images.
        interval (int): Measure every ``interval`` epochs and after the last one.
            Defaults to 1.
        max_images (int, optional): Measure the first images only (by image id).
            Defaults to 64.
        num_draws (int): Masks drawn per strategy and image. Defaults to 8.
        seed (int): Seed of the mask draws (the same masks at every measurement).
            Defaults to 0.
        before_train (bool): Also measure before the first iteration (the
            initialisation, or the resumed state). Defaults to True.
        prefix (str): Scalar name prefix. Defaults to ``'mechanism'``.
    """

    priority = 'LOW'

    def __init__(self,
                 ann_file: str,
                 img_dir: str,
                 interval: int = 1,
                 max_images: Optional[int] = 64,
                 num_draws: int = 8,
                 seed: int = 0,
                 before_train: bool = True,
                 prefix: str = 'mechanism') -> None:
        if interval < 1:
            raise ValueError(f'AttentionMetricsHook: interval must be >= 1, got {interval}.')
        self.ann_file = ann_file
        self.img_dir = img_dir
        self.interval = interval
        self.max_images = max_images
        self.num_draws = num_draws
        self.seed = seed
        self.measure_before_train = before_train
        self.prefix = prefix
        self.crops = None

    def before_train(self, runner) -> None:
        if not is_main_process():
            return
        if not osp.isfile(self.ann_file):
            runner.logger.warning(
                f'AttentionMetricsHook: {self.ann_file} not found; the attention metrics '
                'are not measured in this run (write the toy data with '
                'tools/dataset_converters/make_toy_data.py, or set the hook\'s ann_file '
                'and img_dir).')
            return
        model = self._model(runner)
        backbone = model.backbone
        crops = CocoCrops(self.ann_file, self.img_dir, global_crop_size(model),
                          backbone.patch_embed.projection.stride[0], self.max_images)
        if crops.skipped_message():
            runner.logger.warning(f'AttentionMetricsHook: {crops.skipped_message()}')
        self.crops = list(crops)
        runner.logger.info(f'AttentionMetricsHook: {len(self.crops)} images of '
                           f'{self.ann_file}, every {self.interval} epochs.')
        if self.measure_before_train:
            self._measure(runner, f'before epoch {runner.epoch + 1}')

    def after_train_epoch(self, runner) -> None:
        if self.every_n_epochs(runner, self.interval) or self.is_last_train_epoch(runner):
            self._measure(runner, f'after epoch {runner.epoch + 1}')

    def _model(self, runner):
        return runner.model.module if is_model_wrapper(runner.model) else runner.model

    def _measure(self, runner, when: str) -> None:
        if self.crops is None:
            return
        start = time.perf_counter()
        model = self._model(runner)
        # At the start of a run the teacher takes the student's weights in its first
        # step: until then the student is what the teacher will be.
        teacher = model.backbone if runner.iter == 0 else None
        means = measure(model, self.crops, seed=self.seed, num_draws=self.num_draws,
                        teacher=teacher).mean
        scalars = {f'{self.prefix}/{key}': means[key] for key in METRIC_KEYS
                   if means[key] is not None}
        runner.visualizer.add_scalars(scalars, step=runner.iter)
        for key, value in scalars.items():
            runner.message_hub.update_scalar(key, value)
        figures = '  '.join(f'{key.split("/")[-1]}: {value:.4f}'
                            for key, value in scalars.items())
        runner.logger.info(f'Attention metrics {when}, iter {runner.iter} '
                           f'({len(self.crops)} images, {time.perf_counter() - start:.2f} s): '
                           f'{figures}')
