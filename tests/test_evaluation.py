"""Linear and k-NN evaluation (DINO's protocols) of a pre-trained backbone."""
import json
import os.path as osp

import pytest
import torch

from mmpretrain.registry import MODELS

import mst_mm  # noqa: F401
from mst_mm.datasets.toy import make_toy_data
from conftest import ROOT, free_port, run

TOY_LINEAR = osp.join(ROOT, 'configs', 'linear', 'vit-toy-p8-mst-toy_1xb32-linear-coslr-20e_toy.py')
TOY_ARCH = dict(embed_dims=96, num_layers=4, num_heads=3, feedforward_channels=384)


def test_linear_probe_features_are_the_normed_cls_tokens_of_the_last_blocks():
    probe = MODELS.build(dict(type='LinearProbeViT', arch=TOY_ARCH, img_size=64, patch_size=8,
                              out_indices=(-2, -1), avgpool_patch_tokens=True))
    plain = MODELS.build(dict(type='VisionTransformer', arch=TOY_ARCH, img_size=64,
                              patch_size=8, out_indices=(2, 3), out_type='raw',
                              final_norm=False))
    plain.load_state_dict({k: v for k, v in probe.state_dict().items()
                           if not k.startswith('ln1')})
    plain.eval()
    x = torch.randn(2, 3, 64, 64)
    with torch.no_grad():
        block3, block4 = plain(x)
        expected = torch.cat([probe.ln1(block3)[:, 0], probe.ln1(block4)[:, 0],
                              probe.ln1(block4)[:, 1:].mean(1)], dim=1)
        assert torch.allclose(probe(x)[0], expected, atol=1e-5)
    assert not any(p.requires_grad for p in probe.parameters())
    probe.train()
    assert not probe.training


def test_knn_vote_matches_a_direct_computation():
    from mst_mm.evaluation.knn import knn_classify
    torch.manual_seed(0)
    train = torch.nn.functional.normalize(torch.randn(50, 8), dim=1)
    labels = torch.randint(0, 4, (50,))
    val = torch.nn.functional.normalize(torch.randn(7, 8), dim=1)
    val_labels = torch.randint(0, 4, (7,))
    correct = 0
    for feat, target in zip(val, val_labels):
        sims = train @ feat
        top = sims.topk(5).indices
        votes = torch.zeros(4)
        for i in top:
            votes[labels[i]] += torch.exp(sims[i] / 0.07)
        correct += int(votes.argmax() == target)
    top1, top5 = knn_classify(train, labels, val, val_labels, k=5, temperature=0.07,
                              num_classes=4, chunk=3)
    assert top1 == pytest.approx(100. * correct / 7)
    assert top5 == 100.  # 4 classes: always in the top 5
    # Identical train and val features: every image is its own nearest neighbour.
    top1, _ = knn_classify(train, labels, train, labels, k=1, temperature=0.07, num_classes=4)
    assert top1 == 100.


def test_linear_evaluation_trains_a_head_on_a_frozen_backbone(pretrained, tmp_path):
    root = pretrained['data']['imagenet']
    options = [f'train_dataloader.dataset.data_root={root}/',
               f'val_dataloader.dataset.data_root={root}/',
               f'test_dataloader.dataset.data_root={root}/',
               'train_cfg.max_epochs=2', 'train_cfg.val_interval=2',
               'default_hooks.checkpoint.interval=2', 'train_dataloader.num_workers=0',
               'val_dataloader.num_workers=0', 'train_dataloader.batch_size=8']
    result, log = run('tools/train.py', TOY_LINEAR, '--work-dir', tmp_path / 'linear',
                      '--cfg-options', f'pretrained={pretrained["backbone"]}', *options)
    assert result.returncode == 0, log[-3000:]
    assert 'Backbone: loaded 54/54 tensors' in log
    trained = torch.load(tmp_path / 'linear' / 'epoch_2.pth', map_location='cpu')['state_dict']
    extracted = torch.load(pretrained['backbone'], map_location='cpu')['state_dict']
    for key, value in extracted.items():
        assert torch.equal(trained[f'backbone.{key}'], value), key
    result, log = run('tools/test.py', TOY_LINEAR, tmp_path / 'linear' / 'epoch_2.pth',
                      '--work-dir', tmp_path / 'test', '--cfg-options', *options)
    assert result.returncode == 0, log[-3000:]
    metrics = json.loads(sorted((tmp_path / 'test').glob('*/*.json'))[-1].read_text())
    assert 0. <= metrics['accuracy/top1'] <= 100.


def test_knn_tool_reports_top1_and_top5_alike_in_one_and_two_processes(pretrained, tmp_path):
    root = pretrained['data']['imagenet']
    args = [TOY_LINEAR, '--pretrained', pretrained['backbone'], '--cfg-options',
            f'train_dataloader.dataset.data_root={root}/',
            f'val_dataloader.dataset.data_root={root}/', 'val_dataloader.num_workers=0',
            'val_dataloader.batch_size=5']
    result, log = run('tools/analysis_tools/knn_eval.py', *args[:3], '--work-dir',
                      tmp_path / 'one', *args[3:])
    assert result.returncode == 0, log[-3000:]
    report = json.loads((tmp_path / 'one' / 'knn.json').read_text())
    assert report['num_train'] == 24 and report['num_val'] == 8
    assert 0. <= report['knn_top1'] <= report['knn_top5'] <= 100.

    # Two processes extract half the features each (gloo on CPU), gathered in order.
    result, log = run('-m', 'torch.distributed.run', '--nproc_per_node', '2',
                      '--master_port', str(free_port()), 'tools/analysis_tools/knn_eval.py',
                      *args[:3], '--work-dir', tmp_path / 'two', '--launcher', 'pytorch',
                      *args[3:])
    assert result.returncode == 0, log[-3000:]
    assert json.loads((tmp_path / 'two' / 'knn.json').read_text()) == report


def test_knn_of_the_pretrained_toy_backbone_is_well_above_chance(pretrained, tmp_path):
    """5 toy classes, chance 20 %: a broken feature path (constant or unrelated features,
    wrong token, labels out of step with images) falls to about that."""
    root = make_toy_data(str(tmp_path / 'toy'), seed=1, num_train=150, num_val=150,
                         size=(64, 64))['imagenet']
    result, log = run('tools/analysis_tools/knn_eval.py', TOY_LINEAR, '--pretrained',
                      pretrained['backbone'], '--work-dir', tmp_path, '--cfg-options',
                      f'train_dataloader.dataset.data_root={root}/',
                      f'val_dataloader.dataset.data_root={root}/')
    assert result.returncode == 0, log[-3000:]
    report = json.loads((tmp_path / 'knn.json').read_text())
    assert report['num_val'] == 150
    assert report['knn_top1'] >= 40., report  # twice chance


GATHER = """
import sys, torch, torch.distributed as dist
from mst_mm.evaluation.knn import gather_rows
dist.init_process_group('gloo')
rank, world, size = dist.get_rank(), dist.get_world_size(), 11
# a padding sampler's share: every world-th index, the first ones again at the end
share = list(range(rank, size, world))
share += list(range(size))[:(size + world - 1) // world - len(share)]
indices = torch.tensor(share)
rows = torch.stack([torch.full((5,), float(i)) for i in share])
rows_out, labels_out = gather_rows(rows, indices * 10, indices, size, chunk_rows=2)
if rank == 0:
    assert torch.equal(rows_out[:, 0], torch.arange(size).float()), rows_out[:, 0]
    assert torch.equal(labels_out, torch.arange(size) * 10), labels_out
    print('gathered', tuple(rows_out.shape))
else:
    assert rows_out is None and labels_out is None
"""


def test_the_knn_gather_puts_every_processs_rows_in_dataset_order(tmp_path):
    """Two processes, a padded sampler's uneven shares, chunks of two rows: the main
    process gets each image's row at its dataset index, as contiguous tensors (no
    per-image pickles: those carried their whole batch, 64 times the features)."""
    script = tmp_path / 'gather.py'
    script.write_text(GATHER)
    result, log = run('-m', 'torch.distributed.run', '--nproc_per_node', '2',
                      '--master_port', str(free_port()), script)
    assert result.returncode == 0, log[-3000:]
    assert 'gathered (11, 5)' in log
