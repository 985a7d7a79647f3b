"""What only a GPU shows: mmcv's CUDA ops, the device preflight, host-device
synchronisations. Run by tools/dev/gpu_check.sh on a GPU node; without CUDA each test is
skipped with that reason (the CPU suite covers the same code on the CPU)."""
import os.path as osp

import pytest
import torch
from mmengine.config import Config

import mst_mm  # noqa: F401
from conftest import ROOT

pytestmark = pytest.mark.skipif(not torch.cuda.is_available(), reason='needs a CUDA GPU')
FULL_DET = osp.join(ROOT, 'configs/det/mask-rcnn_vit-small-p16-mst-100e_fpn_8xb2-1x_coco.py')
VIT_S = osp.join(ROOT, 'configs/pretrain/mst_vit-small-p16_16xb64-coslr-100e_in1k.py')


def test_mmcv_roi_align_misreads_channels_last_maps_on_cuda_too():
    """open-mmlab/mmcv#2203 on CUDA: why ViTMultiScaleNeck returns NCHW maps."""
    from mmcv.ops import RoIAlign
    torch.manual_seed(0)
    maps = torch.randn(2, 16, 32, 32, device='cuda')
    rois = torch.tensor([[0., 2., 3., 20., 25.], [1., 5., 1., 30., 12.]], device='cuda')
    roi_align = RoIAlign((7, 7), 1.0, sampling_ratio=0)
    right = roi_align(maps, rois)
    wrong = roi_align(maps.contiguous(memory_format=torch.channels_last), rois)
    assert not torch.allclose(right, wrong, atol=1e-3)
    torch.testing.assert_close(right.cpu(), roi_align(maps.cpu(), rois.cpu()),
                               rtol=1e-4, atol=1e-4)


def test_the_detectors_roi_features_are_those_of_the_nchw_pyramid_on_cuda():
    from mmengine.registry import init_default_scope

    from mmdet.registry import MODELS
    cfg = Config.fromfile(FULL_DET)
    init_default_scope('mmdet')
    cfg.model.backbone.init_cfg = None
    for neck in cfg.model.neck:
        neck.norm_cfg = dict(type='BN')
    detector = MODELS.build(cfg.model).cuda().eval()
    with torch.no_grad():
        pyramid = detector.neck(detector.backbone(torch.randn(2, 3, 128, 128).cuda()))
        rois = torch.tensor([[0., 4., 6., 40., 30.], [1., 10., 2., 60., 50.]]).cuda()
        extractor = detector.roi_head.bbox_roi_extractor
        read = extractor(pyramid[:4], rois)
        expected = extractor([level.contiguous() for level in pyramid[:4]], rois)
    torch.testing.assert_close(read, expected)


def test_the_device_preflight_passes_with_mmcv_cuda_ops():
    from mst_mm.engine.training import check_device
    check_device(Config.fromfile(FULL_DET))  # raises if RoIAlign does not run here


def test_the_multi_view_preprocessor_makes_no_host_device_synchronisation():
    from mmpretrain.registry import MODELS
    cfg = Config.fromfile(VIT_S)
    preprocessor = MODELS.build(cfg.model.data_preprocessor).cuda()
    views = [torch.randint(0, 256, (4, 3, size, size), dtype=torch.uint8, device='cuda')
             for size in (224, 224, 96, 96)]
    torch.cuda.synchronize()
    torch.cuda.set_sync_debug_mode('error')
    try:
        out = preprocessor(dict(inputs=views, data_samples=None), True)
    finally:
        torch.cuda.set_sync_debug_mode('default')
    assert [v.shape[-1] for v in out['inputs']] == [224, 224, 96, 96]
