"""Mixed precision as tools/train.py offers it: refused, with the reason, where it cannot
run, before anything is built."""
import os.path as osp

import pytest
import torch

from conftest import ROOT, run

FULL_DET = osp.join(ROOT, 'configs/det/mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py')
TOY_CASCADE = osp.join(ROOT, 'configs/det/cascade-mask-rcnn_vit-toy-p8-rand-init_fpn_1xb4-8e_toy-coco.py')
TOY_SEG = osp.join(ROOT, 'configs/seg/setr-pup_vit-toy-p8-rand-init_1xb4-1k_toy-cityscapes.py')


def test_mmcv_detection_ops_have_no_bfloat16_kernel():
    """Why --amp bf16 is refused for detectors: under bfloat16 autocast the RPN's boxes
    reach mmcv's NMS in bfloat16, and the pyramid reaches RoIAlign so. If a later mmcv
    runs these, this test fails: lift the refusal then."""
    from mmcv.ops import RoIAlign, nms
    boxes = torch.tensor([[0., 0., 10., 10.], [1., 1., 11., 11.]])
    with pytest.raises(RuntimeError, match='BFloat16'):
        nms(boxes.bfloat16(), torch.tensor([0.9, 0.8]).bfloat16(), 0.5)
    with pytest.raises(RuntimeError, match='BFloat16'):
        RoIAlign((2, 2), 1.0)(torch.ones(1, 1, 8, 8).bfloat16(),
                              torch.tensor([[0., 0., 0., 4., 4.]]).bfloat16())


@pytest.mark.parametrize('config', [FULL_DET, TOY_CASCADE])
def test_amp_bf16_is_refused_for_a_detector_before_anything_is_built(config, tmp_path):
    result, log = run('tools/train.py', config, '--work-dir', tmp_path, '--amp', 'bf16')
    assert result.returncode != 0
    assert 'optim_wrapper.dtype=bfloat16 (--amp bf16)' in log and 'Use --amp (fp16' in log
    assert 'Traceback' not in log and not list(tmp_path.iterdir())


def test_amp_bf16_in_the_config_itself_is_refused_for_a_detector_too(tmp_path):
    result, log = run('tools/train.py', FULL_DET, '--work-dir', tmp_path, '--cfg-options',
                      'optim_wrapper.type=AmpOptimWrapper', 'optim_wrapper.dtype=bfloat16')
    assert result.returncode != 0 and 'optim_wrapper.dtype=bfloat16' in log


@pytest.mark.skipif(torch.cuda.is_available(), reason='the refusal is of a machine without GPU')
def test_amp_without_a_gpu_is_refused_with_the_reason(tmp_path):
    """mmengine's AmpOptimWrapper trains on a GPU only; without one it stopped with an
    assertion deep in the Runner."""
    result, log = run('tools/train.py', TOY_SEG, '--work-dir', tmp_path, '--amp')
    assert result.returncode != 0
    assert 'mixed precision trains on a GPU only' in log and 'Traceback' not in log
