"""Specification of the global image decoder's two forms: one function, one set of weights."""
import pytest
import torch

from mmpretrain.registry import MODELS

import mst_mm  # noqa: F401


def decoder(implementation, in_channels=48, patch_size=8, channels=(16, 8, 4)):
    torch.manual_seed(0)
    model = MODELS.build(dict(type='GlobalImageDecoder', in_channels=in_channels,
                              patch_size=patch_size, channels=channels,
                              implementation=implementation)).double()
    for p in model.parameters():  # away from the default init, biases included
        torch.nn.init.normal_(p, std=0.3)
    return model


@pytest.mark.parametrize('grid_size', [(3, 5), (4, 4)])
def test_matmul_form_gives_the_outputs_and_gradients_of_the_transposed_convolutions(grid_size):
    conv, matmul = decoder('conv'), decoder('matmul')
    matmul.load_state_dict(conv.state_dict())  # the same parameters, the same keys
    tokens = torch.randn(2, grid_size[0] * grid_size[1], 48, dtype=torch.double)
    target = torch.randn(2, 3, grid_size[0] * 8, grid_size[1] * 8, dtype=torch.double)
    outputs, grads = [], []
    for model in (conv, matmul):
        x = tokens.clone().requires_grad_()
        out = model(x, grid_size)
        (out - target).abs().mean().backward()
        outputs.append(out)
        grads.append([x.grad] + [p.grad for p in model.parameters()])
    assert outputs[0].shape == (2, 3, grid_size[0] * 8, grid_size[1] * 8)
    torch.testing.assert_close(outputs[1], outputs[0], rtol=1e-10, atol=1e-10)
    for g_matmul, g_conv in zip(grads[1], grads[0]):
        torch.testing.assert_close(g_matmul, g_conv, rtol=1e-10, atol=1e-10)


def test_both_forms_hold_the_same_state_dict_keys():
    assert decoder('conv').state_dict().keys() == decoder('matmul').state_dict().keys()


def test_matmul_is_the_default_and_other_forms_are_refused():
    default = MODELS.build(dict(type='GlobalImageDecoder', in_channels=8, patch_size=4,
                                channels=(4, 4)))
    assert default.implementation == 'matmul'
    with pytest.raises(ValueError, match='implementation'):
        decoder('pixelshuffle')
