"""A broken run never passes as a good one: it stops, says why, and keeps what was good."""
import os.path as osp
import uuid

import pytest
import torch
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.registry import MODELS, DefaultScope
from mmengine.runner import Runner
from torch import nn

import mst_mm  # noqa: F401
from mst_mm.safe_load import load_weights_only
from mst_mm.engine.resume import (CheckpointMismatchError, ResumeError,
                                       check_model_checkpoint, find_resume_checkpoint)
from mst_mm.engine.config_checks import ConfigError, check_training_config
from mst_mm.engine.non_finite import NonFiniteError, non_finite_tensors
from mst_mm.datasets.toy import make_toy_data
from conftest import TOY_PRETRAIN, run

TOY_LINEAR = 'configs/linear/vit-toy-p8-mst-toy_1xb32-linear-coslr-20e_toy.py'
TOY_DET = 'configs/det/mask-rcnn_vit-toy-p8-mst-toy_fpn_1xb4-8e_toy-coco.py'


# -- non-finite losses and weights, on a real mmengine Runner -------------------------

class Regression(BaseModel):
    """A linear regression whose loss turns NaN, or whose weights turn infinite, at the
    iterations asked for (counted from 1)."""

    def __init__(self, nan_loss_at=(), inf_weights_at=()) -> None:
        super().__init__()
        self.linear = nn.Linear(4, 1)
        self.nan_loss_at, self.inf_weights_at = set(nan_loss_at), set(inf_weights_at)
        self.iteration = 0

    def forward(self, inputs, data_samples=None, mode='loss'):
        self.iteration += 1
        loss = self.linear(inputs).pow(2).mean()
        if self.iteration in self.nan_loss_at:
            loss = loss * float('nan')
        if self.iteration in self.inf_weights_at:  # the loss of this step is finite
            with torch.no_grad():
                self.linear.bias.fill_(float('inf'))
        return dict(loss_regression=loss)


def train(work_dir, model, max_epochs=3, **hook_args):
    """4 iterations per epoch, a checkpoint after each epoch."""
    torch.manual_seed(0)
    data = [dict(inputs=torch.randn(4)) for _ in range(8)]
    runner = Runner(
        model=model, work_dir=str(work_dir), experiment_name=uuid.uuid4().hex,
        train_dataloader=dict(dataset=data, batch_size=2, num_workers=0,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='default_collate')),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.01)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        custom_hooks=[dict(type='NonFiniteCheckHook', **hook_args)],
        default_scope='mmengine')
    runner.train()


def last_checkpoint(work_dir):
    with open(osp.join(work_dir, 'last_checkpoint')) as f:
        return f.read().strip()


def assert_only_the_first_epoch_was_saved(work_dir):
    assert sorted(p.name for p in work_dir.glob('*.pth')) == ['epoch_1.pth']
    assert last_checkpoint(work_dir) == str(work_dir / 'epoch_1.pth')
    assert not non_finite_tensors(load_weights_only(work_dir / 'epoch_1.pth')['state_dict'])


def test_training_stops_at_the_first_non_finite_loss_and_saves_nothing_after(tmp_path):
    with pytest.raises(NonFiniteError, match=r'Non-finite loss at iteration 6 \(epoch 2\): '
                                             r'loss=nan, loss_regression=nan\. .*'
                                             r'last_checkpoint still names .*epoch_1.pth'):
        train(tmp_path, Regression(nan_loss_at={6}))
    assert_only_the_first_epoch_was_saved(tmp_path)


def test_weights_that_are_not_finite_are_never_saved(tmp_path):
    # The last step of epoch 2 overflows the weights while its loss is finite.
    with pytest.raises(NonFiniteError, match=r"1 tensors of the weights to save after "
                                             r"iteration 8 are NaN or infinite "
                                             r"\(e.g. \['linear.bias'\]\)"):
        train(tmp_path, Regression(inf_weights_at={8}))
    assert_only_the_first_epoch_was_saved(tmp_path)


def test_a_configured_number_of_non_finite_iterations_in_a_row_is_skipped(tmp_path):
    train(tmp_path / 'skips', Regression(nan_loss_at={5, 6}), max_skipped_iters=2)
    final = load_weights_only(tmp_path / 'skips' / 'epoch_3.pth')['state_dict']
    assert not non_finite_tensors(final)  # the two updates were skipped
    with pytest.raises(NonFiniteError, match=r'iteration 7 \(epoch 2\)'):
        train(tmp_path / 'stops', Regression(nan_loss_at={5, 6, 7}), max_skipped_iters=2)


def test_a_diverging_pretraining_stops_naming_the_iteration_and_the_loss(tmp_path):
    data = make_toy_data(str(tmp_path / 'toy'), seed=0, num_train=24, num_val=8,
                         size=(128, 64))
    work_dir = tmp_path / 'run'
    result, log = run('tools/train.py', TOY_PRETRAIN, '--work-dir', work_dir,
                      '--cfg-options', f'train_dataloader.dataset.data_root={data["imagenet"]}',
                      'train_dataloader.batch_size=8', 'train_dataloader.num_workers=0',
                      'train_cfg.max_epochs=3', 'default_hooks.checkpoint.interval=1',
                      'optim_wrapper.optimizer.lr=1e6')
    assert result.returncode != 0
    assert 'error: Non-finite loss at iteration ' in result.stderr
    assert 'loss_restore=nan' in log or 'loss_dino=nan' in log
    assert not list(work_dir.glob('*.pth')) and not (work_dir / 'last_checkpoint').exists()


# -- automatic resume ------------------------------------------------------------------

def training_checkpoint(path, iteration):
    torch.save({'meta': {'epoch': 1, 'iter': iteration, 'cfg': 'model = dict()'},
                'state_dict': {}, 'message_hub': {}}, path)


def truncated_checkpoint(path):
    training_checkpoint(path, 3)
    path.write_bytes(path.read_bytes()[:200])


def test_automatic_resume_stops_when_no_checkpoint_of_the_work_dir_is_readable(tmp_path):
    truncated_checkpoint(tmp_path / 'epoch_1.pth')
    with pytest.raises(ResumeError, match=r'holds checkpoints, but none to resume from: '
                                          r'.*epoch_1.pth: not a PyTorch checkpoint.*'
                                          r'--no-resume'):
        find_resume_checkpoint(str(tmp_path))
    # last_checkpoint naming a file that is gone is no reason to start over either.
    (tmp_path / 'epoch_1.pth').unlink()
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_9.pth'))
    with pytest.raises(ResumeError, match='epoch_9.pth, which does not exist'):
        find_resume_checkpoint(str(tmp_path))
    # With a readable checkpoint beside an unreadable one, the run resumes from it.
    truncated_checkpoint(tmp_path / 'epoch_2.pth')
    training_checkpoint(tmp_path / 'epoch_1.pth', 3)
    assert find_resume_checkpoint(str(tmp_path)) == str(tmp_path / 'epoch_1.pth')


def test_train_does_not_start_over_on_top_of_an_unreadable_checkpoint(tmp_path):
    truncated_checkpoint(tmp_path / 'epoch_1.pth')
    before = (tmp_path / 'epoch_1.pth').read_bytes()
    result, log = run('tools/train.py', TOY_PRETRAIN, '--work-dir', tmp_path)
    assert result.returncode != 0
    assert 'none to resume from' in result.stderr and '--no-resume' in result.stderr
    assert (tmp_path / 'epoch_1.pth').read_bytes() == before
    assert not (tmp_path / 'last_checkpoint').exists()


# -- config values that would fail far from the cause ----------------------------------

def test_a_negative_number_of_views_is_refused_naming_the_key():
    cfg = Config.fromfile(TOY_PRETRAIN)
    cfg.merge_from_dict({'train_dataloader.dataset.pipeline.1.num_views': [1, 1, -4]})
    with pytest.raises(ConfigError, match=r'train_dataloader\.dataset\.pipeline\.1\.'
                                          r'num_views=\[1, 1, -4\]'):
        check_training_config(cfg)
    cfg.merge_from_dict({'train_dataloader.dataset.pipeline.1.num_views': [1, 1, 0]})
    check_training_config(cfg)  # no local crops is allowed


def test_a_warmup_longer_than_the_schedule_is_refused_naming_the_keys():
    cfg = Config.fromfile(TOY_PRETRAIN)
    cfg.merge_from_dict({'train_cfg.max_epochs': 1})
    with pytest.raises(ConfigError, match=r'param_scheduler\.1 \(CosineAnnealingLR\) begins '
                                          r'at 2, when the training has ended \(train_cfg'
                                          r'\.max_epochs=1\): the warm-up \(param_scheduler'
                                          r'\.0\.end=2\)'):
        check_training_config(cfg)


def test_train_refuses_a_warmup_longer_than_the_schedule_before_building(tmp_path):
    result, log = run('tools/train.py', TOY_PRETRAIN, '--work-dir', tmp_path,
                      '--cfg-options', 'train_cfg.max_epochs=1')
    assert result.returncode != 0
    assert 'param_scheduler.0.end=2' in result.stderr and 'Traceback' not in log


# -- tools/test.py: the checkpoint must hold the config's model ------------------------

def build(config):
    cfg = Config.fromfile(config)
    with DefaultScope.overwrite_default_scope(cfg.get('default_scope', 'mmpretrain')):
        return MODELS.build(cfg.model)


@pytest.fixture(scope='module')
def checkpoints(tmp_path_factory):
    folder = tmp_path_factory.mktemp('checkpoints')
    paths = {}
    for name, config in (('pretrain', TOY_PRETRAIN), ('det', TOY_DET),
                         ('linear', TOY_LINEAR)):
        paths[name] = folder / f'{name}.pth'
        torch.save({'state_dict': build(config).state_dict(), 'meta': {}}, paths[name])
    return paths


def test_a_checkpoint_of_another_model_is_refused_for_testing(checkpoints):
    with pytest.raises(CheckpointMismatchError, match=r'det.pth does not hold the weights '
                                                      r".*\(ImageClassifier\): \d+ of its "
                                                      r".*head.fc.weight.*a detector"):
        check_model_checkpoint(str(checkpoints['det']), build(TOY_LINEAR))
    with pytest.raises(CheckpointMismatchError, match=r'\(MaskRCNN\).*neck.*pre-training '
                                                      r'checkpoint'):
        check_model_checkpoint(str(checkpoints['pretrain']), build(TOY_DET))
    check_model_checkpoint(str(checkpoints['linear']), build(TOY_LINEAR))


def test_test_py_stops_instead_of_scoring_random_weights(checkpoints, tmp_path):
    result, log = run('tools/test.py', TOY_LINEAR, checkpoints['det'], '--work-dir', tmp_path)
    assert result.returncode != 0
    assert 'does not hold the weights of this config' in result.stderr
    assert 'accuracy' not in log
