"""Specification of the pre-training benchmark's figures and of the GPU-facing options."""
import os.path as osp
from argparse import Namespace

import pytest
import torch
from torch import nn
from torch.utils._python_dispatch import TorchDispatchMode

from mst_mm.analysis import pipeline_speed, scaling, speed
from mst_mm.engine.training import build_training_config
from conftest import PRETRAIN_CONFIGS

TOY = osp.join(PRETRAIN_CONFIGS, 'mst_vit-toy-p8_1xb32-20e_toy.py')
VIT_S = osp.join(PRETRAIN_CONFIGS, 'mst_vit-small-p16_16xb64-coslr-100e_in1k.py')


def test_flop_count_of_a_train_step_equals_the_hand_count():
    torch.manual_seed(0)
    model = nn.Sequential(nn.Linear(8, 16), nn.ReLU(), nn.Linear(16, 4))
    x = torch.randn(5, 8)

    def step():
        model(x).square().sum().backward()

    forward = 2 * 5 * 8 * 16 + 2 * 5 * 16 * 4  # multiply-adds of the two products, x2
    backward = (2 * 5 * 4 * 16 + 2 * 5 * 4 * 16  # layer 2: input and weight gradients
                + 2 * 5 * 16 * 8)  # layer 1: weight gradient (x needs none)
    assert speed.count_flops(step) == forward + backward == 4480


def test_scaling_table_prints_the_step_time_per_local_crop_count_and_global_size(capsys):
    args = Namespace(configs=[TOY], batch_size=1, scaling_iters=1, device=torch.device('cpu'),
                     precision=['fp32'], timer='wall', fused_adamw=False, cfg_options={})
    from mmengine.logging import MessageHub
    from mmengine.registry import init_default_scope
    init_default_scope('mmpretrain')
    hub = MessageHub.get_current_instance()
    hub.update_info('max_iters', 10)
    table = scaling.scaling_table(args)
    assert list(table['local']) == [0, 2, 4, 8]
    assert list(table['global']) == [160, 224, 288]
    assert all(s > 0 for s in [*table['local'].values(), *table['global'].values()])
    lines = capsys.readouterr().out.splitlines()
    local_row = lines[lines.index(next(l for l in lines if l.startswith('local crops'))) + 1]
    global_row = lines[lines.index(next(l for l in lines if l.startswith('global crop'))) + 1]
    assert len(local_row.split()) >= 4 and len(global_row.split()) >= 3
    assert f'{table["local"][8]:.3f}' in local_row
    assert f'{table["global"][288]:.3f}' in global_row


def train_config(tmp_path, amp):
    """The config tools/train.py VIT_S --amp [AMP] trains with."""
    return build_training_config(VIT_S, work_dir=str(tmp_path), amp=amp)


def test_train_amp_bf16_autocasts_in_bfloat16_without_a_loss_scaler(tmp_path):
    optim = train_config(tmp_path, 'bf16').optim_wrapper
    assert optim.type == 'AmpOptimWrapper'
    assert optim.dtype == 'bfloat16' and optim.loss_scale == dict(enabled=False)


def test_train_amp_alone_stays_fp16_with_a_dynamic_loss_scale(tmp_path):
    optim = train_config(tmp_path, 'fp16').optim_wrapper
    assert optim.type == 'AmpOptimWrapper'
    assert optim.get('dtype') is None and optim.loss_scale == 'dynamic'


@pytest.mark.parametrize('precision', ['fp16', 'bf16'])
def test_benchmark_precisions_are_what_train_amp_runs(tmp_path, precision):
    cfg = train_config(tmp_path, precision)
    from mmengine.config import Config
    expected = speed.optim_wrapper_cfg(Config.fromfile(VIT_S), precision, fused_adamw=False)
    assert cfg.optim_wrapper.to_dict() == dict(expected)


class TensorShapes(TorchDispatchMode):
    """Records the shape of every tensor an operation returns."""

    def __init__(self):
        super().__init__()
        self.shapes = []

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):
        out = func(*args, **(kwargs or {}))
        for t in out if isinstance(out, (tuple, list)) else [out]:
            if isinstance(t, torch.Tensor):
                self.shapes.append(tuple(t.shape))
        return out


DEVICES = ['cpu'] + (['cuda'] if torch.cuda.is_available() else [])


@pytest.mark.parametrize('device', DEVICES)
def test_teacher_forms_no_n_by_n_attention_map(device):
    from mmengine.config import Config
    from mmpretrain.registry import MODELS
    model = MODELS.build(Config.fromfile(TOY).model).to(device)
    crops = torch.randn(2, 3, 64, 64, device=device)
    tokens = 1 + (64 // 8)**2
    with torch.autocast(device, dtype=torch.bfloat16), TensorShapes() as seen:
        _, attention = model.teacher_forward(crops)
    assert attention.shape == (2, tokens - 1) and attention.dtype == torch.float32
    assert not [s for s in seen.shapes if len(s) >= 2 and s[-2:] == (tokens, tokens)]


def test_dino_reference_gives_dinos_crops_normalised():
    from PIL import Image
    reference = pipeline_speed.dino_reference_pipeline([(224, 1), (224, 1), (96, 8)])
    image = pipeline_speed.decoded_jpeg()
    crops = reference(Image.fromarray(image[..., ::-1].copy()))
    assert [tuple(c.shape) for c in crops] == [(3, 224, 224)] * 2 + [(3, 96, 96)] * 8
    assert all(c.dtype == torch.float32 and c.min() < 0 for c in crops)  # normalised
