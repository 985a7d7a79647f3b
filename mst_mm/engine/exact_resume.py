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
* **The main process's generators are part of the checkpoint.** They are seeded from
  (seed, epoch) at the start of every epoch and saved in each checkpoint; a resume in the
  middle of an epoch restores them at the batch it continues from.

``tools/train.py`` uses ``ExactResumeEpochBasedTrainLoop`` in place of mmengine's
``EpochBasedTrainLoop``; it trains exactly like it when nothing is resumed. Iteration-
based loops keep mmengine's resume (it skips the trained batches by loading them).
"""
import itertools
import random
from contextlib import contextmanager
from typing import Optional

import numpy as np
import torch
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.registry import LOOPS
from mmengine.runner import EpochBasedTrainLoop
from torch.utils.data import DataLoader


def get_rng_state() -> dict:
    """The states of python's, numpy's and torch's global generators (weights-only safe)."""
    kind, keys, pos, has_gauss, gauss = np.random.get_state()
    state = dict(python=random.getstate(),
                 numpy=(kind, torch.from_numpy(keys.astype(np.int64)), pos, has_gauss, gauss),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: dict) -> None:
    """Put back what ``get_rng_state`` returned."""
    version, internal, gauss_next = state['python']
    random.setstate((version, tuple(internal), gauss_next))
    kind, keys, pos, has_gauss, gauss = state['numpy']
    np.random.set_state((kind, keys.numpy().astype(np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        torch.cuda.set_rng_state_all(state['cuda'])


def seed_all(*entropy: int) -> None:
    """Seed python, numpy and torch (all devices) from a tuple of non-negative ints."""
    seed = int(np.random.SeedSequence([e & 0xFFFFFFFF for e in entropy]).generate_state(1)[0])
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)


@contextmanager
def forked_rng(*entropy: int):
    """Run the body with generators seeded from ``entropy``; restore them afterwards."""
    saved = get_rng_state()
    seed_all(*entropy)
    try:
        yield
    finally:
        set_rng_state(saved)


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
        with forked_rng(self.seed, int(self.epoch), results['sample_idx']):
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


class RNGStateHook(Hook):
    """Saves the generators in each checkpoint and hands them to the loop on resume."""

    priority = 'VERY_LOW'

    def __init__(self, loop: 'ExactResumeEpochBasedTrainLoop') -> None:
        self.loop = loop

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        checkpoint['rng_state'] = get_rng_state()

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        self.loop.resumed_rng_state = checkpoint.get('rng_state')


@LOOPS.register_module()
class ExactResumeEpochBasedTrainLoop(EpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop`` with an exact resume (see the module docstring).

    Same arguments as ``EpochBasedTrainLoop``.
    """

    def __init__(self, runner, dataloader, *args, **kwargs) -> None:
        super().__init__(runner, dataloader, *args, **kwargs)
        self.resumed_rng_state: Optional[dict] = None
        self.seeded_pipeline = self._seed_pipeline(self.dataloader.dataset)
        runner.register_hook(RNGStateHook(self))

    def _seed_pipeline(self, dataset) -> Optional[SeededPipeline]:
        pipeline = getattr(dataset, 'pipeline', None)
        if pipeline is None:
            print_log(f'{type(dataset).__name__} has no pipeline attribute: its '
                      'augmentation is not seeded per sample, so a resume in the middle '
                      'of an epoch is not exact.', logger='current', level=30)
            return None
        if not isinstance(pipeline, SeededPipeline):
            dataset.pipeline = SeededPipeline(pipeline, self.runner.seed)
        return dataset.pipeline

    def run_epoch(self) -> None:
        """One epoch, from the batch the run resumed at when it resumed mid-epoch."""
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        seed_all(self.runner.seed, self._epoch)
        if self.seeded_pipeline is not None:
            # The seed as resumed; workers are forked after this, at iter(loader).
            self.seeded_pipeline.seed = self.runner.seed
            self.seeded_pipeline.epoch.fill_(self._epoch)
        done = self._iter - self._epoch * len(self.dataloader)
        loader = self.dataloader
        if done > 0:
            self.runner.logger.info(f'Resuming epoch {self._epoch + 1} at batch {done + 1}.')
            loader = loader_without_first_batches(loader, done)
        batches = iter(loader)
        if done > 0:
            if self.resumed_rng_state is None:
                self.runner.logger.warning(
                    'The resumed checkpoint has no generator states: the rest of this '
                    'epoch will not be exactly as in an unbroken run.')
            else:
                set_rng_state(self.resumed_rng_state)
        self.resumed_rng_state = None
        for idx, data_batch in enumerate(batches, start=done):
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1
