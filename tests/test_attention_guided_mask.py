"""Specification of the attention-guided mask generator."""
import pytest
import torch

from mmpretrain.registry import MODELS

import mst_mm  # noqa: F401  (registers the modules)


def build(**kwargs):
    return MODELS.build(dict(type='AttentionGuidedMaskGenerator', **kwargs))


def ranked_attention(batch_size=4, num_patches=64):
    """Attention where patch i of every crop has the i-th smallest value, shuffled."""
    perm = torch.stack([torch.randperm(num_patches) for _ in range(batch_size)])
    return perm.float().softmax(dim=1), perm  # perm[b, j] = rank of patch j


def test_mask_has_one_bool_per_patch_of_each_crop():
    mask = build()(torch.rand(6, 196).softmax(1))
    assert mask.shape == (6, 196) and mask.dtype == torch.bool


def test_low_strategy_masks_only_the_least_attended_candidates():
    torch.manual_seed(0)
    attention, rank = ranked_attention()
    mask = build(strategy='low', candidate_ratio=0.25, mask_prob=1.0)(attention)
    # With mask_prob 1 exactly the 16 lowest-ranked patches are masked.
    assert torch.equal(mask, rank < 16)
    mask = build(strategy='low', candidate_ratio=0.5, mask_prob=0.5)(attention)
    assert mask.any()
    assert not (mask & (rank >= 32)).any(), 'a patch outside the candidates was masked'
    assert not (mask & (rank == 63)).any(), 'the most attended patch was masked'


def test_high_strategy_masks_only_the_most_attended_candidates():
    torch.manual_seed(0)
    attention, rank = ranked_attention()
    mask = build(strategy='high', candidate_ratio=0.25, mask_prob=1.0)(attention)
    assert torch.equal(mask, rank >= 48)


def test_random_strategy_masks_the_same_expected_count_anywhere():
    torch.manual_seed(0)
    attention, rank = ranked_attention(batch_size=2000, num_patches=64)
    low = build(strategy='low', candidate_ratio=0.5, mask_prob=0.4)(attention)
    rnd = build(strategy='random', candidate_ratio=0.5, mask_prob=0.4)(attention)
    expected = 0.5 * 0.4 * 64
    assert low.sum(1).float().mean().item() == pytest.approx(expected, rel=0.03)
    assert rnd.sum(1).float().mean().item() == pytest.approx(expected, rel=0.03)
    # Random masking reaches the most attended half of the patches, 'low' never does.
    assert rnd[rank >= 32].float().mean().item() == pytest.approx(0.2, abs=0.02)
    assert not low[rank >= 32].any()


def test_the_same_seed_gives_the_same_mask():
    attention = torch.rand(8, 196).softmax(1)
    generator = build(strategy='random')
    torch.manual_seed(3)
    first = generator(attention)
    torch.manual_seed(3)
    assert torch.equal(first, generator(attention))
    torch.manual_seed(4)
    assert not torch.equal(first, generator(attention))


@pytest.mark.parametrize('kwargs, message', [
    (dict(strategy='middle'), 'Unknown mask strategy'),
    (dict(candidate_ratio=1.5), 'candidate_ratio must lie in'),
    (dict(mask_prob=-0.1), 'mask_prob must lie in'),
])
def test_a_bad_mask_config_fails_at_build_time(kwargs, message):
    with pytest.raises(ValueError, match=message):
        build(**kwargs)
