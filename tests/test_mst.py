"""Specification of the MST algorithm: teacher, mask, student, decoder, losses."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmpretrain.registry import MODELS

import mst_mm  # noqa: F401
from mst_mm.models.vit_utils import (capture_last_block_qkv, cls_attention,
                                     masked_patch_embedding)
from conftest import PRETRAIN_CONFIGS

TOY = osp.join(PRETRAIN_CONFIGS, 'mst_vit-toy-p8_1xb32-20e_toy.py')
COLLAPSE_DIAGNOSTICS = {'teacher_entropy', 'teacher_kl_uniform', 'teacher_marginal_entropy',
                        'teacher_student_kl'}


def build_model(config=TOY, **model_overrides):
    cfg = Config.fromfile(config)
    cfg.merge_from_dict({f'model.{k}': v for k, v in model_overrides.items()})
    model = MODELS.build(cfg.model)
    model.init_weights()
    return model


def toy_batch(batch_size=2, global_size=64, local_size=32, num_local=2, seed=0):
    g = torch.Generator().manual_seed(seed)
    views = [torch.randint(0, 256, (batch_size, 3, global_size, global_size), generator=g)
             for _ in range(2)]
    views += [torch.randint(0, 256, (batch_size, 3, local_size, local_size), generator=g)
              for _ in range(num_local)]
    return dict(inputs=[v.to(torch.uint8) for v in views], data_samples=None)


def losses_of(model, batch):
    data = model.data_preprocessor(batch, True)
    return model(**data, mode='loss')


def test_cls_attention_is_the_first_row_of_the_full_attention_map():
    model = build_model()
    vit = model.backbone
    x = torch.randn(3, 1 + 64, vit.embed_dims)
    layer = vit.layers[-1]
    attn = layer.attn
    qkv = attn.qkv(layer.ln1(x)).reshape(3, 65, 3, attn.num_heads, attn.head_dims)
    q, k = qkv[:, :, 0].transpose(1, 2), qkv[:, :, 1].transpose(1, 2)
    full = ((q @ k.transpose(-2, -1)) * attn.head_dims**-0.5).softmax(-1)  # (B, H, N, N)
    expected = full[:, :, 0, 1:].mean(1)
    with capture_last_block_qkv(vit) as captured:
        layer(x)
    assert torch.allclose(cls_attention(captured[0], attn.num_heads), expected, atol=1e-6)


def test_teacher_forward_keeps_the_fused_attention_kernel_in_every_block():
    model = build_model()
    crops = torch.randn(2, 3, 64, 64)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CPU]) as prof:
        _, attention = model.teacher_forward(crops)
    fused = [e for e in prof.events() if e.name == 'aten::scaled_dot_product_attention']
    assert len(fused) == len(model.backbone.layers)
    assert attention.shape == (2, 64)
    assert (attention.sum(1) <= 1 + 1e-5).all()  # patches share the softmax with [CLS]


def test_masked_patches_are_replaced_by_the_mask_token_and_only_they():
    model = build_model()
    vit, crops = model.backbone, torch.randn(2, 3, 64, 64)
    mask = torch.zeros(2, 64, dtype=torch.bool)
    mask[0, :10] = True
    plain, _ = vit.patch_embed(crops)
    with masked_patch_embedding(vit, mask, model.mask_token):
        masked, _ = vit.patch_embed(crops)
    assert torch.allclose(masked[mask], model.mask_token[0].expand(10, -1))
    assert torch.equal(masked[~mask], plain[~mask])


def test_mst_logs_the_dino_and_restoring_losses_separately(message_hub):
    model = build_model()
    losses = losses_of(model, toy_batch())
    assert set(losses) == {'loss_dino', 'loss_restore', 'mask_ratio', *COLLAPSE_DIAGNOSTICS}
    assert all(torch.isfinite(v) for v in losses.values())
    assert 0 < losses['mask_ratio'] < 1


def test_collapse_diagnostics_are_logged_but_not_summed_into_the_loss(message_hub):
    model = build_model()
    losses = losses_of(model, toy_batch())
    total, log_vars = model.parse_losses(losses)
    assert torch.equal(total, losses['loss_dino'] + losses['loss_restore'])
    assert COLLAPSE_DIAGNOSTICS <= set(log_vars)


def test_mst_trains_with_no_local_crops(message_hub):
    model = build_model()
    losses = losses_of(model, toy_batch(num_local=0))
    assert torch.isfinite(losses['loss_dino'])


def test_mask_token_and_decoder_get_gradients_and_the_teacher_none(message_hub):
    model = build_model()
    losses = losses_of(model, toy_batch())
    sum(v for k, v in losses.items() if k.startswith('loss')).backward()
    assert model.mask_token.grad is not None and model.mask_token.grad.abs().sum() > 0
    for name, p in model.decoder.named_parameters():
        assert p.grad is not None and p.grad.abs().sum() > 0, name
    assert all(p.grad is None and not p.requires_grad for p in model.teacher.parameters())
    assert model.backbone.patch_embed.projection.weight.grad.abs().sum() > 0


def test_teacher_changes_only_by_ema_of_the_student(message_hub):
    cfg = Config.fromfile(TOY)
    model = build_model()
    optim = build_optim_wrapper(model, cfg.optim_wrapper)
    model.train()
    model.train_step(toy_batch(seed=0), optim)  # first update copies the student
    teacher_before = {k: v.clone() for k, v in model.teacher.module.state_dict().items()}
    student_before = {k: v.clone() for k, v in model.state_dict().items()
                      if k.startswith(('backbone.', 'head.'))}
    steps = int(model.teacher.steps)
    model.train_step(toy_batch(seed=1), optim)
    m = cfg.model.teacher_momentum * (1 + torch.cos(torch.tensor(torch.pi * steps / 100.))) / 2
    for key, value in model.teacher.module.state_dict().items():
        expected = (1 - m) * teacher_before[key] + m * student_before[key]
        assert torch.allclose(value, expected, atol=1e-6), key
    assert any(not torch.equal(teacher_before[k], v)
               for k, v in model.teacher.module.state_dict().items())


def test_teacher_runs_without_drop_path_in_training():
    model = build_model(backbone=dict(drop_path_rate=0.5))
    model.train()
    assert model.backbone.training and not model.teacher.training
    assert not any(m.training for m in model.teacher.modules())


@pytest.mark.parametrize('override, message', [
    (dict(mask_generator=dict(type='AttentionGuidedMaskGenerator', strategy='top')),
     'Unknown mask strategy'),
    (dict(mask_generator=dict(type='AttentionGuidedMaskGenerator', mask_prob=2.0)),
     'mask_prob must lie in'),
    (dict(restore_weight=-1.), 'restore_weight must be >= 0'),
])
def test_a_bad_model_config_fails_when_the_model_is_built(override, message):
    with pytest.raises(ValueError, match=message):
        build_model(**override)


def test_the_teachers_attention_is_that_of_its_last_blocks_qkv():
    """The teacher recomputes the last block's qkv from that block's input (no hook in
    the blocks, which torch.compile then fuses whole): the same [CLS] attention as the
    qkv the block itself computed."""
    model = build_model()
    teacher = model.teacher.module['backbone']
    crops = torch.randn(2, 3, 64, 64)
    with torch.no_grad(), capture_last_block_qkv(teacher) as captured:
        _, attention = model.teacher_forward(crops)
    expected = cls_attention(captured[0], teacher.layers[-1].attn.num_heads)
    torch.testing.assert_close(attention, expected, rtol=0, atol=1e-6)
    assert teacher.out_indices == [len(teacher.layers) - 1]  # restored after the call


def test_the_multi_view_preprocessor_gives_mmpretrains_views():
    """MultiViewDataPreprocessor (sync-free channel swap) against mmpretrain's
    SelfSupDataPreprocessor with the same settings: the same float views."""
    model = build_model()
    cfg = dict(Config.fromfile(TOY).model.data_preprocessor, type='SelfSupDataPreprocessor')
    reference = MODELS.build(cfg)
    batch = toy_batch()
    ours, theirs = model.data_preprocessor(batch, True), reference(batch, True)
    assert type(model.data_preprocessor).__name__ == 'MultiViewDataPreprocessor'
    assert len(ours['inputs']) == len(theirs['inputs']) == 4
    for a, b in zip(ours['inputs'], theirs['inputs']):
        assert torch.equal(a, b)


def test_compiled_blocks_make_one_graph_per_crop_size_and_the_same_losses(message_hub):
    """model.compile_blocks=True: no block breaks its graph (mmpretrain's numpy drop-path
    rates broke each one three times), three graphs in all (the student's global and
    local crops, the teacher's global crops), and the eager model's losses."""
    import torch._dynamo
    from torch._dynamo.utils import counters
    torch._dynamo.reset()
    counters.clear()
    torch.manual_seed(0)
    eager = build_model(**{'backbone.drop_path_rate': 0.})
    compiled = build_model(**{'backbone.drop_path_rate': 0.})
    compiled.load_state_dict(eager.state_dict())
    compiled.compile_blocks()
    batch = toy_batch()
    torch.manual_seed(1)
    expected = losses_of(eager, batch)
    torch.manual_seed(1)
    got = losses_of(compiled, batch)
    assert not counters['graph_break'], list(counters['graph_break'])[:1]
    assert counters['stats']['unique_graphs'] == 3
    for key in ('loss_dino', 'loss_restore'):
        torch.testing.assert_close(got[key], expected[key], rtol=1e-4, atol=1e-5)
