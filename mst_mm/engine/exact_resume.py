"""Exact resume for epoch-based training.

A run stopped at iteration k (by a preemption checkpoint, ``PreemptionCheckpointHook``)
and resumed trains on to the same weights as a run that never stopped. mmengine's
``EpochBasedTrainLoop`` restarts a resumed epoch from its first batch and leaves the
random generators as they happen to be; three things make it exact here:

* **Skipped batches are not loaded.** A resumed epoch iterates a copy of the data loader
  whose batch sampler drops the batches already trained on (any batch sampler, mmdet's
  aspect-ratio grouping included).
* **Augmentation does not depend on who loads a sample.** The dataset's pipeline runs
  with the random generators seeded from (seed, epoch, sample index) and put back
  afterwards, so a sample is augmented the same in a data-loader worker, in the main
  process, before or after a resume.
* **The model's randomness depends on the iteration and the rank only.** The generators
  of each process are seeded from (seed, iteration, rank) before each iteration (masks,
  drop path, the detector's samplers), so a resumed run draws what the unbroken one
  drew, on every rank, with nothing but the seed to keep, and the ranks draw different
  masks and drop paths, as independent processes do.

``tools/train.py`` uses ``ExactResumeEpochBasedTrainLoop`` in place of mmengine's
``EpochBasedTrainLoop``; without a resume it runs the same batches and schedule, its
random draws coming from the seeds above. Iteration-based loops keep mmengine's resume
(it skips the trained batches by loading them).
"""
import itertools
import logging
import random
from contextlib import contextmanager
from typing import Optional

import numpy as np
import torch
from mmengine.dist import get_rank
from mmengine.logging import print_log
from mmengine.registry import LOOPS
from mmengine.runner import EpochBasedTrainLoop
from mmengine.runner.utils import set_random_seed
from torch.utils.data import DataLoader


def _seed_from(*entropy: int) -> int:
    return int(np.random.SeedSequence([e & 0xFFFFFFFF for e in entropy]).generate_state(1)[0])


def seed_all(*entropy: int) -> None:
    """Seed python, numpy and torch (every device) from a tuple of non-negative ints."""
    set_random_seed(_seed_from(*entropy))


@contextmanager
def forked_cpu_rng(*entropy: int):
    """Run the body with the CPU generators seeded from ``entropy``; put them back after.

    CPU only: data-loader workers are forked, and CUDA cannot be touched in them.
    """
    saved = random.getstate(), np.random.get_state(), torch.get_rng_state()
    seed = _seed_from(*entropy)
    random.seed(seed)
    np.random.seed(seed)
    torch.default_generator.manual_seed(seed)
    try:
        yield
    finally:
        random.setstate(saved[0])
        np.random.set_state(saved[1])
        torch.set_rng_state(saved[2])


class SeededPipeline:
    """A dataset pipeline run with generators seeded from (seed, epoch, sample index).

    The epoch sits in shared memory: data-loader workers, forked or persistent, read the
    epoch the main process set.
    """

    def __init__(self, pipeline, seed: int) -> None:
        self.pipeline = pipeline
        self.seed = seed
        self.epoch = torch.zeros((), dtype=torch.int64).share_memory_()

    def __call__(self, results: dict):
        with forked_cpu_rng(self.seed, int(self.epoch), results['sample_idx']):
            return self.pipeline(results)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(seed={self.seed}, {self.pipeline!r})'


class _SkipBatches:
    """A batch sampler without its first ``num_skipped`` batches."""

    def __init__(self, batch_sampler, num_skipped: int) -> None:
        self.batch_sampler = batch_sampler
        self.num_skipped = num_skipped

    def __iter__(self):
        return itertools.islice(iter(self.batch_sampler), self.num_skipped, None)

    def __len__(self) -> int:
        return max(len(self.batch_sampler) - self.num_skipped, 0)


def loader_without_first_batches(loader: DataLoader, num_skipped: int) -> DataLoader:
    """A one-epoch copy of ``loader`` that starts at batch ``num_skipped``."""
    kwargs = dict(num_workers=loader.num_workers, collate_fn=loader.collate_fn,
                  pin_memory=loader.pin_memory, timeout=loader.timeout,
                  worker_init_fn=loader.worker_init_fn, generator=loader.generator,
                  multiprocessing_context=loader.multiprocessing_context)
    if loader.num_workers > 0:
        kwargs['prefetch_factor'] = loader.prefetch_factor
    return DataLoader(loader.dataset,
                      batch_sampler=_SkipBatches(loader.batch_sampler, num_skipped), **kwargs)


@LOOPS.register_module()
class ExactResumeEpochBasedTrainLoop(EpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop`` with an exact resume (see the module docstring).

    Same arguments as ``EpochBasedTrainLoop``.
    """

    def __init__(self, runner, dataloader, *args, **kwargs) -> None:
        super().__init__(runner, dataloader, *args, **kwargs)
        self.seeded_pipeline = self._seed_pipeline(self.dataloader.dataset)

    def _seed_pipeline(self, dataset) -> Optional[SeededPipeline]:
        pipeline = getattr(dataset, 'pipeline', None)
        if pipeline is None:
            print_log(f'{type(dataset).__name__} has no pipeline attribute: its '
                      'augmentation is not seeded per sample, so a resume in the middle '
                      'of an epoch is not exact.', logger='current',
                      level=logging.WARNING)
            return None
        if not isinstance(pipeline, SeededPipeline):
            dataset.pipeline = SeededPipeline(pipeline, self.runner.seed)
        return dataset.pipeline

    def run_epoch(self) -> None:
        """One epoch, from the batch the run resumed at when it resumed mid-epoch."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        if self.seeded_pipeline is not None:
            # The seed as resumed; workers are forked after this, at iter(loader).
            self.seeded_pipeline.seed = self.runner.seed
            self.seeded_pipeline.epoch.fill_(self._epoch)
        done = self._iter - self._epoch * len(self.dataloader)
        loader = self.dataloader
        if done > 0:
            self.runner.logger.info(f'Resuming epoch {self._epoch + 1} at batch {done + 1}.')
            loader = loader_without_first_batches(loader, done)
        for idx, data_batch in enumerate(loader, start=done):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def run_iter(self, idx, data_batch) -> None:
        seed_all(self.runner.seed, self._iter, get_rank())
        super().run_iter(idx, data_batch)
