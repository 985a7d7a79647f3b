"""Specification of the optimisation schedules of the pre-training configs."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper
from mmengine.registry import PARAM_SCHEDULERS

from mmpretrain.registry import MODELS

import mst_mm  # noqa: F401
from conftest import PRETRAIN_CONFIGS

EPOCH_LENGTH = 4


def build_schedule(config):
    cfg = Config.fromfile(osp.join(PRETRAIN_CONFIGS, config))
    # A small ViT is enough: the schedules act on the parameter groups.
    cfg.merge_from_dict({'model.backbone.arch': 'deit-tiny',
                         'model.head.in_channels': 192,
                         'model.decoder.in_channels': 192})
    model = MODELS.build(cfg.model)
    optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    schedulers = []
    for scheduler in cfg.param_scheduler:
        scheduler = dict(scheduler)
        cls = PARAM_SCHEDULERS.get(scheduler.pop('type'))
        scheduler.pop('convert_to_iter_based')
        scheduler.setdefault('end', cfg.train_cfg.max_epochs)  # as the Runner does
        schedulers.append(cls.build_iter_from_epoch(
            optim_wrapper.optimizer, epoch_length=EPOCH_LENGTH, **scheduler))
    return cfg, model, optim_wrapper.optimizer, schedulers


def values(optimizer, key):
    return [group[key] for group in optimizer.param_groups]


@pytest.mark.parametrize('config, epochs', [
    ('mst_vit-small-p16_16xb64-coslr-100e_in1k.py', 100),
    ('mst_vit-small-p16_16xb64-coslr-300e_in1k.py', 300),
])
def test_lr_warms_up_then_decays_and_weight_decay_rises_from_004_to_04(config, epochs):
    cfg, model, optimizer, schedulers = build_schedule(config)
    base_lr = cfg.optim_wrapper.optimizer.lr
    assert base_lr == pytest.approx(5e-4 * 1024 / 256)
    decayed = [g['weight_decay'] > 0 for g in optimizer.param_groups]
    assert any(decayed) and not all(decayed)  # norms and biases are not decayed
    assert max(values(optimizer, 'lr')) < base_lr * 1e-5
    history = []
    for _ in range(epochs * EPOCH_LENGTH):
        history.append((max(values(optimizer, 'lr')), values(optimizer, 'weight_decay')))
        optimizer.step()
        for scheduler in schedulers:
            scheduler.step()
    # Linear warm-up reaching the base lr at the end of epoch 10 (as DINO's linspace),
    # then cosine from it.
    warmup_end = 10 * EPOCH_LENGTH
    assert history[warmup_end // 2][0] == pytest.approx(base_lr / 2, rel=0.05)
    assert history[warmup_end - 1][0] == pytest.approx(base_lr, rel=1e-3)
    assert history[warmup_end][0] == pytest.approx(base_lr, rel=1e-3)
    assert all(a[0] >= b[0] for a, b in zip(history[warmup_end:], history[warmup_end + 1:]))
    final_lr, final_wd = history[-1]
    assert final_lr == pytest.approx(1e-6, rel=0.05)
    assert history[0][1] == [0.04 if d else 0. for d in decayed]
    assert final_wd == pytest.approx([0.4 if d else 0. for d in decayed], rel=1e-3)


def test_freeze_last_layer_hook_and_clipping_are_configured():
    cfg = Config.fromfile(osp.join(PRETRAIN_CONFIGS,
                                   'mst_vit-small-p16_16xb64-coslr-100e_in1k.py'))
    assert dict(type='FreezeLastLayerHook', num_epochs=1) in cfg.custom_hooks
    assert dict(type='ClipGradHook', max_norm=3.0, per_tensor=True) in cfg.custom_hooks
    assert cfg.model.backbone.drop_path_rate == 0.1
    assert cfg.model.teacher_momentum == pytest.approx(1 - 0.996)
    model = MODELS.build(cfg.model)
    assert dict(model.named_parameters())['head.last_layer.weight'].shape == (65536, 256)
    torch.testing.assert_close(model.teacher.end_momentum, 0.)


def test_pretraining_has_dinos_two_parameter_groups_with_each_tensors_settings():
    """mmengine's paramwise_cfg makes one group per tensor (70 for the toy MST, some 200
    for ViT-S), whose per-group launches bound the GPU step; the pre-training configs
    merge them into DINO's two: every tensor keeps the settings mmengine gives it."""
    import copy

    from mmengine.registry import init_default_scope
    cfg = Config.fromfile(osp.join(PRETRAIN_CONFIGS, 'mst_vit-toy-p8_1xb32-20e_toy.py'))
    init_default_scope('mmpretrain')
    model = MODELS.build(cfg.model)
    merged = build_optim_wrapper(model, cfg.optim_wrapper).optimizer.param_groups
    per_tensor_cfg = copy.deepcopy(cfg.optim_wrapper)
    per_tensor_cfg.pop('constructor')
    per_tensor = build_optim_wrapper(model, per_tensor_cfg).optimizer.param_groups
    assert len(per_tensor) == sum(p.requires_grad for p in model.parameters())
    assert sorted((len(g['params']), g['weight_decay']) for g in merged) == [(28, 0.04),
                                                                              (42, 0.0)]

    def settings(groups):
        return {id(p): {k: v for k, v in g.items() if k != 'params'}
                for g in groups for p in g['params']}

    assert settings(merged) == settings(per_tensor)
