"""Specification of the teacher's sync-free EMA: mmpretrain's CosineEMA, bit for bit."""
import torch
from mmengine.logging import MessageHub
from torch import nn

from mmpretrain.models.utils import CosineEMA

from mst_mm.models.teacher_ema import TeacherEMA


def student():
    torch.manual_seed(0)
    return nn.Sequential(nn.Linear(6, 5), nn.LayerNorm(5), nn.Linear(5, 3))


def train_a_little(model, seed):
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for p in model.parameters():
            p.add_(torch.randn(p.shape, generator=g) * 0.1)


def test_teacher_ema_gives_cosine_emas_weights_and_state_dict_exactly():
    MessageHub.get_instance('test_teacher_ema').update_info('max_iters', 7)
    model = student()
    reference = CosineEMA(model, momentum=0.004, end_momentum=0.)
    teacher = TeacherEMA(model, momentum=0.004, end_momentum=0.)
    for step in range(7):
        reference.update_parameters(model)
        teacher.update_parameters(model)
        train_a_little(model, seed=step)
    assert reference.state_dict().keys() == teacher.state_dict().keys()
    for key, value in reference.state_dict().items():
        assert torch.equal(teacher.state_dict()[key], value), key


def test_teacher_ema_resumes_from_a_loaded_state_at_the_loaded_step():
    MessageHub.get_instance('test_teacher_ema_resume').update_info('max_iters', 10)
    model = student()
    reference = CosineEMA(model, momentum=0.004, end_momentum=0.)
    for step in range(4):
        reference.update_parameters(model)
        train_a_little(model, seed=step)
    resumed = TeacherEMA(student(), momentum=0.004, end_momentum=0.)
    resumed.update_parameters(student())  # its own count is now 1
    resumed.load_state_dict(reference.state_dict())
    for step in range(4, 8):
        reference.update_parameters(model)
        resumed.update_parameters(model)
        train_a_little(model, seed=step)
    for key, value in reference.state_dict().items():
        assert torch.equal(resumed.state_dict()[key], value), key
    assert int(resumed.steps) == 8
