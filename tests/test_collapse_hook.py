"""Specification of the collapse warning: a run whose DINO teacher sits at uniform or
one-prototype collapse for a whole epoch says so in its log."""
import glob
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch import nn

from mmpretrain.registry import MODELS

import mst_mm  # noqa: F401

NUM_PROTOTYPES, BATCH = 16, 8


class FixedTeacherDINO(BaseModel):
    """The real DINO loss between a trainable student and a teacher whose outputs are
    given: constant (uniform collapse), one prototype for every sample, or one distinct
    prototype per sample (healthy)."""

    def __init__(self, teacher: str, center_momentum: float = 0.9) -> None:
        super().__init__()
        self.teacher = teacher
        self.student = nn.Parameter(torch.zeros(BATCH, NUM_PROTOTYPES))
        self.dino_loss = MODELS.build(dict(
            type='DINOLoss', out_channels=NUM_PROTOTYPES, warmup_teacher_temp_epochs=0,
            teacher_temp=0.04, center_momentum=center_momentum))

    def teacher_out(self, step: int) -> torch.Tensor:
        if self.teacher == 'uniform':
            return torch.zeros(BATCH, NUM_PROTOTYPES)
        if self.teacher == 'one_prototype':
            return F.one_hot(torch.zeros(BATCH, dtype=torch.long), NUM_PROTOTYPES).float()
        if self.teacher == 'collapses_mid_epoch' and step >= 2:
            return torch.zeros(BATCH, NUM_PROTOTYPES)
        return F.one_hot(torch.randperm(NUM_PROTOTYPES)[:BATCH], NUM_PROTOTYPES).float()

    def forward(self, inputs, data_samples=None, mode='loss'):
        step = int(inputs[0])
        teacher = self.teacher_out(step)
        loss = self.dino_loss([self.student] * 2, [teacher] * 2, epoch=0)
        return dict(loss_dino=loss, **self.dino_loss.diagnostics)


def train_one_epoch(tmp_path, model, num_iters=4) -> str:
    """Train one epoch with the hook as the pre-training configs set it; the log text."""
    runner = Runner(
        model=model,
        work_dir=str(tmp_path),
        train_dataloader=dict(
            dataset=[dict(inputs=float(i)) for i in range(num_iters)],
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
            batch_size=1),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        custom_hooks=[dict(type='CollapseWarningHook', uniform_kl=0.1,
                           one_prototype_entropy=0.1)],
        default_hooks=dict(checkpoint=None, logger=dict(type='LoggerHook', interval=1)),
        default_scope='mmpretrain',
        experiment_name=f'collapse_{tmp_path.name}')  # one logger per test
    runner.train()
    (log_file, ) = glob.glob(osp.join(str(tmp_path), '*', '*.log'))
    with open(log_file) as f:
        return f.read()


def test_uniform_teacher_for_an_epoch_is_reported(tmp_path):
    log = train_one_epoch(tmp_path, FixedTeacherDINO('uniform'))
    assert 'DINO uniform collapse during all of epoch 1' in log
    assert 'one-prototype collapse' not in log
    assert 'teacher_kl_uniform: 0.0000' in log  # logged every interval


def test_one_prototype_teacher_for_an_epoch_is_reported(tmp_path):
    # Sharpening without centering (center_momentum 1 keeps the center at 0), the
    # collapse DINO's centering prevents.
    log = train_one_epoch(tmp_path, FixedTeacherDINO('one_prototype', center_momentum=1.0))
    assert 'DINO one-prototype collapse during all of epoch 1' in log
    assert 'uniform collapse' not in log


@pytest.mark.parametrize('teacher', ['healthy', 'collapses_mid_epoch'])
def test_no_warning_for_a_healthy_teacher_or_part_of_an_epoch(tmp_path, teacher):
    log = train_one_epoch(tmp_path, FixedTeacherDINO(teacher))
    assert 'teacher_marginal_entropy' in log
    assert 'collapse during' not in log


def test_the_hook_names_the_items_it_misses(tmp_path):
    class NoDiagnostics(FixedTeacherDINO):
        def forward(self, inputs, data_samples=None, mode='loss'):
            return dict(loss_dino=super().forward(inputs)['loss_dino'])

    with pytest.raises(KeyError, match='teacher_kl_uniform'):
        train_one_epoch(tmp_path, NoDiagnostics('healthy'))
