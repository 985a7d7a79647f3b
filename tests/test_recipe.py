"""The recipe as DINO's reference does it, where the paper is silent: the objective against
DINO's published equations, the initialisation, the gradient clipping, the learning-rate
scaling rule, and every config of the project building."""
import glob
import math
import os.path as osp

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.model import BaseModel
from mmengine.optim import build_optim_wrapper
from mmengine.registry import HOOKS, MODELS, TRANSFORMS, init_default_scope
from mmengine.runner import Runner
from torch import nn

import mst_mm  # noqa: F401
from conftest import PRETRAIN_CONFIGS, ROOT

TOY_MST = osp.join(PRETRAIN_CONFIGS, 'mst_vit-toy-p8_1xb32-20e_toy.py')
TOY_DINO = osp.join(PRETRAIN_CONFIGS, 'dino_vit-toy-p8_1xb32-20e_toy.py')


def build(config, scope='mmpretrain', **overrides):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(overrides)
    init_default_scope(cfg.get('default_scope', scope))
    model = MODELS.build(cfg.model)
    return cfg, model


def multicrop_batch(batch_size=3, num_local=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    views = [torch.randint(0, 256, (batch_size, 3, 64, 64), generator=g) for _ in range(2)]
    views += [torch.randint(0, 256, (batch_size, 3, 32, 32), generator=g)
              for _ in range(num_local)]
    return dict(inputs=[v.to(torch.uint8) for v in views], data_samples=None)


# -- DINO's equations, written here from the paper, not from this package --------------

def reference_head(x, weights, prefix):
    """DINO's head: 3-layer MLP with GELU, L2 normalisation, then the prototypes, a
    weight-normalised linear layer whose rows have norm g = 1."""
    x = F.gelu(F.linear(x, weights[prefix + 'mlp.0.weight'], weights[prefix + 'mlp.0.bias']))
    x = F.gelu(F.linear(x, weights[prefix + 'mlp.2.weight'], weights[prefix + 'mlp.2.bias']))
    x = F.linear(x, weights[prefix + 'mlp.4.weight'], weights[prefix + 'mlp.4.bias'])
    v = weights[prefix + 'last_layer.weight']
    return (x / x.norm(dim=-1, keepdim=True)) @ (v / v.norm(dim=1, keepdim=True)).T


def reference_dino_loss(student, teacher, center, student_temp, teacher_temp):
    """H(P_t, P_s) averaged over the pairs (teacher global crop i, student crop j != i):
    P_t = softmax((g_t - c) / tau_t), log P_s = log_softmax(g_s / tau_s)."""
    total, terms = 0., 0
    for i, t in enumerate(teacher):
        p_t = torch.softmax((t - center) / teacher_temp, dim=-1)
        for j, s in enumerate(student):
            if i != j:
                total = total - (p_t * torch.log_softmax(s / student_temp, dim=-1)).sum(-1).mean()
                terms += 1
    return total / terms


def reference_cls_attention(block_input, block):
    """The last block's self-attention of the [CLS] query over the patch keys,
    softmax(q k^T / sqrt(d)) over all tokens, averaged over heads."""
    heads = block.attn.num_heads
    b, n, c = block_input.shape
    x = F.layer_norm(block_input, (c,), block.ln1.weight, block.ln1.bias, block.ln1.eps)
    qkv = F.linear(x, block.attn.qkv.weight, block.attn.qkv.bias)
    q, k, _ = qkv.reshape(b, n, 3, heads, c // heads).permute(2, 0, 3, 1, 4)
    attn = torch.softmax(q @ k.transpose(-2, -1) / math.sqrt(c // heads), dim=-1)
    return attn[:, :, 0, 1:].mean(dim=1)


def test_the_dino_baseline_computes_dinos_published_objective(message_hub):
    """Mask off and lambda 0: the loss and the center are DINO's equations on the
    outputs of the (library) ViTs, with the config's tau_s and its tau_t at epoch 0
    (the toy recipe's 0.1 and 0.02)."""
    torch.manual_seed(0)
    cfg, model = build(TOY_DINO)
    model.init_weights()
    model.train()
    assert model.mask_generator is None and model.decoder is None
    data = model.data_preprocessor(multicrop_batch(), True)
    losses = model(**data, mode='loss')
    assert [k for k in losses if k.startswith('loss')] == ['loss_dino']

    views = data['inputs']
    weights = {k: v.detach() for k, v in model.state_dict().items()}
    with torch.no_grad():
        teacher_vit = model.teacher.module['backbone']  # mmpretrain's ViT
        teacher_cls = teacher_vit(torch.cat(views[:2]))[-1][:, 0]
        teacher = reference_head(teacher_cls, weights, 'teacher.module.head.').chunk(2)
        student_cls = torch.cat([model.backbone(torch.cat(views[:2]))[-1][:, 0],
                                 model.backbone(torch.cat(views[2:]))[-1][:, 0]])
        student = reference_head(student_cls, weights, 'head.').chunk(len(views))
    loss_cfg = cfg.model.dino_loss
    assert loss_cfg.student_temp == 0.1 and loss_cfg.warmup_teacher_temp == 0.02
    expected = reference_dino_loss(student, teacher, torch.zeros(1), 0.1, 0.02)
    assert losses['loss_dino'].item() == pytest.approx(expected.item(), rel=1e-5)
    # The center moved by the EMA (0.9) of the teacher's batch mean.
    torch.testing.assert_close(model.dino_loss.center,
                               0.1 * torch.cat(teacher).mean(0, keepdim=True))


def test_the_teachers_cls_attention_is_dinos_last_block_attention():
    torch.manual_seed(0)
    _, model = build(TOY_MST)
    model.init_weights()
    crops = torch.randn(2, 3, 64, 64)
    captured = []
    vit = model.teacher.module['backbone']
    handle = vit.layers[-1].register_forward_pre_hook(lambda m, args: captured.append(args[0]))
    _, attention = model.teacher_forward(crops)
    handle.remove()
    expected = reference_cls_attention(captured[0], vit.layers[-1])
    torch.testing.assert_close(attention, expected, atol=1e-6, rtol=1e-5)


# -- initialisation ---------------------------------------------------------------------

def assert_dino_vit_init(vit):
    """DINO's ViT: Linear trunc-normal 0.02 with zero bias (the FFN too), LayerNorm 1/0,
    [CLS] token and position embedding trunc-normal 0.02."""
    for name, module in vit.named_modules():
        if isinstance(module, nn.Linear):
            # (xavier, which mmpretrain gives the FFN, has std sqrt(2 / (in + out)))
            assert module.weight.std().item() == pytest.approx(0.02, rel=0.1), name
            assert torch.count_nonzero(module.bias) == 0, name
        elif isinstance(module, nn.LayerNorm):
            assert torch.all(module.weight == 1) and torch.all(module.bias == 0), name
    for token in (vit.cls_token, vit.pos_embed):
        assert 0.01 < token.std().item() < 0.03


def test_the_pretraining_vit_and_head_are_initialised_as_dinos():
    torch.manual_seed(0)
    _, model = build(osp.join(PRETRAIN_CONFIGS, 'mst_vit-small-p16_16xb64-coslr-100e_in1k.py'),
                     **{'model.backbone.arch': 'deit-tiny', 'model.head.in_channels': 192,
                        'model.decoder.in_channels': 192})
    model.init_weights()
    assert_dino_vit_init(model.backbone)
    for module in model.head.mlp:
        if isinstance(module, nn.Linear):
            assert module.weight.std().item() == pytest.approx(0.02, rel=0.1)
            assert torch.count_nonzero(module.bias) == 0
    # The prototypes keep nn.Linear's default: uniform in +-1/sqrt(fan_in).
    last = model.head.last_layer.weight
    bound = 1 / math.sqrt(last.shape[1])
    assert last.abs().max() <= bound
    assert last.std().item() == pytest.approx(bound / math.sqrt(3), rel=0.05)


@pytest.mark.parametrize('config', [
    'configs/det/mask-rcnn_vit-toy-p8-rand-init_fpn_1xb4-8e_toy-coco.py',
    'configs/seg/setr-pup_vit-toy-p8-rand-init_1xb4-1k_toy-cityscapes.py',
    'configs/linear/vit-toy-p8-rand-init_1xb32-linear-coslr-20e_toy.py',
    'configs/det/mask-rcnn_vit-small-p16-rand-init_fpn_8xb2-1x_coco.py',
    'configs/det/cascade-mask-rcnn_vit-toy-p8-rand-init_fpn_1xb4-8e_toy-coco.py',
    'configs/seg/upernet_vit-toy-p8-rand-init_1xb4-1k_toy-ade20k.py',
])
def test_the_random_init_rows_initialise_the_vit_as_dino(config):
    torch.manual_seed(0)
    _, model = build(osp.join(ROOT, config))
    model.init_weights()
    assert_dino_vit_init(model.backbone)


# -- gradient clipping --------------------------------------------------------------------

class GradientsOfKnownNorm(BaseModel):
    """Three parameters whose gradients have norms 6, 1 and 100 (the last layer)."""

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.zeros(1))
        self.b = nn.Parameter(torch.zeros(1))
        self.head = nn.Module()
        self.head.last_layer = nn.Linear(1, 1, bias=False)

    def forward(self, inputs, data_samples=None, mode='loss'):
        return dict(loss=6 * self.a.sum() + self.b.sum()
                    + 100 * self.head.last_layer.weight.sum())


def one_sgd_step(tmp_path, per_tensor, frozen_epochs):
    model = GradientsOfKnownNorm()
    last_before = model.head.last_layer.weight.detach().clone()
    runner = Runner(
        model=model, work_dir=str(tmp_path), default_scope='mmpretrain',
        train_dataloader=dict(dataset=[dict(inputs=torch.zeros(1))], batch_size=1,
                              sampler=dict(type='DefaultSampler', shuffle=False),
                              collate_fn=dict(type='default_collate')),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=1.0)),
        train_cfg=dict(by_epoch=True, max_epochs=1),
        default_hooks=dict(checkpoint=None),
        custom_hooks=[dict(type='FreezeLastLayerHook', num_epochs=frozen_epochs),
                      dict(type='ClipGradHook', max_norm=3.0, per_tensor=per_tensor)])
    runner.train()
    moved = model.head.last_layer.weight.detach() - last_before
    return -model.a.item(), -model.b.item(), moved.abs().item()


def test_gradients_are_clipped_tensor_by_tensor_as_dino_does(tmp_path):
    a, b, last = one_sgd_step(tmp_path, per_tensor=True, frozen_epochs=1)
    assert (a, b) == pytest.approx((3.0, 1.0), rel=1e-5)  # 6 -> 3; 1 stays 1
    assert last == 0  # frozen in the first epoch


def test_global_norm_clipping_does_not_count_the_frozen_last_layer(tmp_path):
    a, b, last = one_sgd_step(tmp_path, per_tensor=False, frozen_epochs=1)
    scale = 3.0 / math.sqrt(6**2 + 1**2)  # not 3 / sqrt(6^2 + 1 + 100^2)
    assert (a, b) == pytest.approx((6 * scale, scale), rel=1e-4)
    assert last == 0
    a, b, last = one_sgd_step(tmp_path, per_tensor=False, frozen_epochs=0)
    assert a == pytest.approx(6 * 3.0 / math.sqrt(6**2 + 1 + 100**2), rel=1e-4)
    assert last > 0


def test_the_pretraining_configs_clip_per_tensor_and_scale_the_lr_by_the_batch():
    for name in ('mst_vit-small-p16_16xb64-coslr-100e_in1k.py',
                 'dino_vit-small-p16_16xb64-coslr-100e_in1k.py',
                 'mst_vit-toy-p8_1xb32-20e_toy.py'):
        cfg = Config.fromfile(osp.join(PRETRAIN_CONFIGS, name))
        assert cfg.optim_wrapper.get('clip_grad') is None, name
        assert dict(type='ClipGradHook', max_norm=3.0, per_tensor=True) in cfg.custom_hooks
        assert cfg.auto_scale_lr.enable, name
    cfg = Config.fromfile(osp.join(PRETRAIN_CONFIGS,
                                   'mst_vit-small-p16_16xb64-coslr-100e_in1k.py'))
    # DINO: 5e-4 x total batch / 256, whatever the batch is
    assert cfg.optim_wrapper.optimizer.lr / cfg.auto_scale_lr.base_batch_size == \
        pytest.approx(5e-4 / 256)
    linear = Config.fromfile(osp.join(
        ROOT, 'configs/linear/vit-small-p16-mst-300e_8xb128-linear-coslr-100e_in1k.py'))
    assert linear.auto_scale_lr.enable
    assert linear.optim_wrapper.optimizer.lr / linear.auto_scale_lr.base_batch_size == \
        pytest.approx(1e-3 / 256)
    assert linear.train_cfg.val_interval == 1  # DINO validates every epoch


def test_a_run_logs_its_batch_and_the_scaled_learning_rate(pretrained):
    # The session's toy pre-training: 1 process x 8 images, lr 1e-3 set for 32 images.
    logs = glob.glob(str(pretrained['root'] / 'pretrain' / '*' / '*.log'))
    text = open(logs[0]).read()
    assert 'Batch: 1 process(es) x 8 images = 8 per iteration; learning rate 0.00025' in text


# -- every config ---------------------------------------------------------------------------

CONFIGS = sorted(osp.relpath(p, ROOT) for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                                                          recursive=True)
                 if '_base_' not in osp.relpath(p, ROOT).split(osp.sep))


def pipelines(cfg):
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader'):
        dataset = (cfg.get(key) or {}).get('dataset') or {}
        while 'dataset' in dataset:  # wrappers such as RepeatDataset
            dataset = dataset['dataset']
        yield from dataset.get('pipeline') or []


def test_there_are_configs_to_build():
    assert len(CONFIGS) >= 25, CONFIGS


@pytest.mark.parametrize('config', CONFIGS)
def test_every_config_builds_its_model_pipelines_hooks_and_optimizer(config):
    cfg = Config.fromfile(osp.join(ROOT, config))
    init_default_scope(cfg.get('default_scope', 'mmengine'))
    model = MODELS.build(cfg.model)
    for transform in pipelines(cfg):
        TRANSFORMS.build(transform)
    for hook in cfg.get('custom_hooks') or []:
        HOOKS.build(hook)
    build_optim_wrapper(model, cfg.optim_wrapper)
