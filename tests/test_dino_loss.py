"""Specification of the DINO loss, the head and the schedules."""
import math

import pytest
import torch
import torch.nn.functional as F
from mmengine.logging import MessageHub

from mmpretrain.models.utils import CosineEMA
from mmpretrain.registry import MODELS

import mst_mm  # noqa: F401


def direct_dino_loss(student, teacher, center, student_temp, teacher_temp):
    """The DINO equation written out pair by pair, sample by sample."""
    total, terms = 0., 0
    for i, t in enumerate(teacher):
        for j, s in enumerate(student):
            if i == j:
                continue
            for b in range(t.shape[0]):
                p = torch.exp((t[b] - center[0]) / teacher_temp)
                p = p / p.sum()
                log_q = s[b] / student_temp - torch.logsumexp(s[b] / student_temp, 0)
                total += -(p * log_q).sum() / t.shape[0]
            terms += 1
    return total / terms


def test_dino_loss_equals_the_direct_computation():
    torch.manual_seed(0)
    loss = MODELS.build(dict(type='DINOLoss', out_channels=7, warmup_teacher_temp_epochs=0,
                             teacher_temp=0.07))
    loss.center.copy_(torch.randn(1, 7) * 0.1)
    center = loss.center.clone()
    student = list(torch.randn(4, 3, 7).unbind(0))  # 2 global + 2 local crops
    teacher = list(torch.randn(2, 3, 7).unbind(0))
    expected = direct_dino_loss(student, teacher, center, 0.1, 0.07)
    assert loss(student, teacher, epoch=0).item() == pytest.approx(expected.item(), rel=1e-5)


def test_collapse_diagnostics_equal_the_hand_computation():
    """DINO's h(P_t) and KL(P_t || P_s), the KL to the uniform distribution and the
    entropy of the batch-mean teacher, written out sample by sample."""
    torch.manual_seed(0)
    num_prototypes, temp = 5, 0.07
    loss = MODELS.build(dict(type='DINOLoss', out_channels=num_prototypes,
                             warmup_teacher_temp_epochs=0, teacher_temp=temp))
    loss.center.copy_(torch.randn(1, num_prototypes) * 0.1)
    center = loss.center[0].clone()
    student = list(torch.randn(3, 4, num_prototypes).unbind(0))  # 2 global + 1 local
    teacher = list(torch.randn(2, 4, num_prototypes).unbind(0))
    loss(student, teacher, epoch=0)

    def teacher_probs(t):
        p = torch.exp((t - center) / temp)
        return p / p.sum()

    probs = [teacher_probs(t[b]) for t in teacher for b in range(4)]
    entropies = [-(p * p.log()).sum() for p in probs]
    kls_uniform = [(p * (p * num_prototypes).log()).sum() for p in probs]
    marginal = sum(probs) / len(probs)
    kls_student = []
    for i, t in enumerate(teacher):
        for j, s in enumerate(student):
            if i != j:
                for b in range(4):
                    p, q = teacher_probs(t[b]), torch.softmax(s[b] / 0.1, 0)
                    kls_student.append((p * (p.log() - q.log())).sum())
    expected = dict(
        teacher_entropy=sum(entropies) / len(entropies),
        teacher_kl_uniform=sum(kls_uniform) / len(kls_uniform),
        teacher_marginal_entropy=-(marginal * marginal.log()).sum(),
        teacher_student_kl=sum(kls_student) / len(kls_student))
    assert loss.diagnostics.keys() == expected.keys()
    for key, value in expected.items():
        assert loss.diagnostics[key].item() == pytest.approx(value.item(), rel=1e-4), key
        assert not loss.diagnostics[key].requires_grad


def test_collapse_diagnostics_name_the_two_collapses():
    """Uniform teacher: entropy log K, KL to uniform 0. One teacher prototype for every
    sample (sharpening without centering): marginal entropy 0."""
    num_prototypes = 8
    loss = MODELS.build(dict(type='DINOLoss', out_channels=num_prototypes,
                             warmup_teacher_temp_epochs=0, teacher_temp=0.04))
    student = [torch.randn(4, num_prototypes, requires_grad=True) for _ in range(2)]
    loss(student, [torch.zeros(4, num_prototypes)] * 2, epoch=0)
    assert loss.diagnostics['teacher_entropy'].item() == pytest.approx(math.log(8))
    assert loss.diagnostics['teacher_kl_uniform'].item() == pytest.approx(0, abs=1e-6)

    one_prototype = F.one_hot(torch.zeros(4, dtype=torch.long), num_prototypes).float()
    loss.center.zero_()
    loss(student, [one_prototype] * 2, epoch=0)
    assert loss.diagnostics['teacher_marginal_entropy'].item() < 1e-6
    assert loss.diagnostics['teacher_kl_uniform'].item() == pytest.approx(math.log(8), rel=1e-4)


def test_center_is_an_ema_of_the_teacher_batch_mean():
    loss = MODELS.build(dict(type='DINOLoss', out_channels=5, center_momentum=0.9))
    teacher = [torch.randn(3, 5), torch.randn(3, 5)]
    loss([torch.randn(3, 5)] * 2, teacher, epoch=0)
    batch_mean = torch.cat(teacher).mean(0, keepdim=True)
    assert torch.allclose(loss.center, 0.1 * batch_mean, atol=1e-6)
    previous = loss.center.clone()
    loss([torch.randn(3, 5)] * 2, teacher, epoch=0)
    assert torch.allclose(loss.center, 0.9 * previous + 0.1 * batch_mean, atol=1e-6)


def test_teacher_temperature_warms_up_linearly_then_stays():
    loss = MODELS.build(dict(type='DINOLoss', out_channels=4, warmup_teacher_temp=0.04,
                             teacher_temp=0.07, warmup_teacher_temp_epochs=30))
    assert loss.teacher_temp_at(0) == pytest.approx(0.04)
    assert loss.teacher_temp_at(29) == pytest.approx(0.07)
    assert loss.teacher_temp_at(15) == pytest.approx(0.04 + 15 * 0.03 / 29)
    assert loss.teacher_temp_at(99) == pytest.approx(0.07)


def test_teacher_momentum_follows_dinos_cosine_from_0996_to_1():
    """mmengine's EMA momentum is the weight of the new parameters: 0.004 -> 0."""
    hub = MessageHub.get_instance('test_teacher_momentum')
    hub.update_info('max_iters', 100)
    ema = CosineEMA(torch.nn.Linear(1, 1, bias=False), momentum=0.004, end_momentum=0.)
    teacher, student = torch.ones(1), torch.zeros(1)
    ema.avg_func(teacher, student, steps=0)
    assert teacher.item() == pytest.approx(0.996)
    teacher = torch.ones(1)
    ema.avg_func(teacher, student, steps=100)
    assert teacher.item() == pytest.approx(1.0)
    teacher = torch.ones(1)
    ema.avg_func(teacher, student, steps=50)
    assert teacher.item() == pytest.approx(1 - 0.004 * (1 + math.cos(math.pi / 2)) / 2)


def test_dino_head_output_uses_unit_norm_prototypes():
    head = MODELS.build(dict(type='DINOHead', in_channels=8, out_channels=16,
                             hidden_channels=12, bottleneck_channels=6))
    head.init_weights()
    x = torch.randn(5, 8)
    bottleneck = F.normalize(head.mlp(x), dim=-1)
    out = head(x)
    assert out.shape == (5, 16)
    # Scaling the prototypes does not change the output: their norm is fixed to 1.
    with torch.no_grad():
        head.last_layer.weight.mul_(3.0)
    assert torch.allclose(head(x), out, atol=1e-6)
    assert out.abs().max() <= 1.0 + 1e-6  # cosine similarities
    assert torch.allclose(out, bottleneck @ F.normalize(head.last_layer.weight, dim=1).T,
                          atol=1e-6)
