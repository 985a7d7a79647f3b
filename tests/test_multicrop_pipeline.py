"""Specification of the multi-crop data pipeline and of bad images."""
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmpretrain.registry import DATASETS, TRANSFORMS

import mst_mm  # noqa: F401
from conftest import PRETRAIN_CONFIGS


def write_image_folder(root, num_images=4, corrupt=None):
    """An ImageNet-style folder of random JPEGs, optionally with one corrupt file."""
    import cv2
    rng = np.random.default_rng(0)
    for i in range(num_images):
        folder = osp.join(root, 'train', f'class_{i % 2}')
        os.makedirs(folder, exist_ok=True)
        cv2.imwrite(osp.join(folder, f'img_{i}.JPEG'),
                    rng.integers(0, 255, (90, 120, 3), dtype=np.uint8))
    if corrupt:
        path = osp.join(root, 'train', 'class_0', corrupt)
        with open(path, 'wb') as f:
            f.write(b'\xff\xd8\xff\xe0 this is not a JPEG')
        return path


def build_dataset(config, data_root, num_local_crops=None):
    cfg = Config.fromfile(osp.join(PRETRAIN_CONFIGS, config))
    init_default_scope('mmpretrain')
    dataset = cfg.train_dataloader.dataset
    if num_local_crops is not None:
        dataset.pipeline[1].num_views = [1, 1, num_local_crops]
    dataset.update(type='CustomDataset', data_root=data_root, data_prefix='train',
                   ann_file='')
    dataset.pop('split', None)
    return DATASETS.build(dataset)


@pytest.mark.parametrize('config, global_size, local_size, num_local', [
    ('mst_vit-small-p16_16xb64-coslr-100e_in1k.py', 224, 96, 8),
    ('mst_vit-toy-p8_1xb32-20e_toy.py', 64, 32, 4),
])
def test_multicrop_gives_two_global_and_n_local_crops(tmp_path, config, global_size,
                                                     local_size, num_local):
    write_image_folder(str(tmp_path))
    sample = build_dataset(config, str(tmp_path))[0]
    views = sample['inputs']
    assert len(views) == 2 + num_local
    assert [tuple(v.shape) for v in views[:2]] == [(3, global_size, global_size)] * 2
    assert all(tuple(v.shape) == (3, local_size, local_size) for v in views[2:])


def test_multicrop_allows_zero_local_crops(tmp_path):
    write_image_folder(str(tmp_path))
    views = build_dataset('mst_vit-toy-p8_1xb32-20e_toy.py', str(tmp_path),
                          num_local_crops=0)[0]['inputs']
    assert len(views) == 2


def test_a_corrupt_image_fails_with_an_error_naming_the_file(tmp_path):
    path = write_image_folder(str(tmp_path), corrupt='broken.JPEG')
    dataset = build_dataset('mst_vit-toy-p8_1xb32-20e_toy.py', str(tmp_path))
    index = next(i for i in range(len(dataset))
                 if dataset.get_data_info(i)['img_path'].endswith('broken.JPEG'))
    with pytest.raises(Exception, match='broken.JPEG'):
        dataset[index]
    assert osp.exists(path)


# -- resizing as DINO's reference does: PIL, which antialiases when it shrinks ---------

def textured_image(height=375, width=500):
    """A BGR image full of fine detail, where an aliasing resize shows."""
    yy, xx = np.mgrid[0:height, 0:width]
    img = np.stack([(xx * (c + 1) + yy * (3 - c)) % 256 for c in range(3)], -1)
    noise = np.random.default_rng(0).integers(0, 40, img.shape)
    return (img + noise).clip(0, 255).astype(np.uint8)


def pil_resized(image, box, size, resample):
    """PIL's resize of the (left, top, right, bottom) box of a BGR image, as BGR."""
    from PIL import Image
    rgb = Image.fromarray(np.ascontiguousarray(image[..., ::-1]))
    return np.asarray(rgb.crop(box).resize(size, resample))[..., ::-1]


def crops_of(config):
    cfg = Config.fromfile(osp.join(PRETRAIN_CONFIGS, config))
    init_default_scope('mmpretrain')
    multiview = next(t for t in cfg.train_dataloader.dataset.pipeline
                     if t['type'] == 'MultiView')
    return [TRANSFORMS.build(next(t for t in group if 'ResizedCrop' in t['type']))
            for group in multiview['transforms']]


def crop_and_pil_reference(crop, image, seed, resample):
    np.random.seed(seed)
    out = crop.transform(dict(img=image.copy()))['img']
    np.random.seed(seed)
    top, left, h, w = crop.rand_crop_params(image)
    return out, pil_resized(image, (left, top, left + w, top + h), crop.scale[::-1],
                            resample)


@pytest.mark.parametrize('config', [
    'mst_vit-small-p16_16xb64-coslr-100e_in1k.py', 'mst_vit-toy-p8_1xb32-20e_toy.py'])
def test_multicrop_crops_are_pil_bicubic_resizes_as_in_dino(config):
    import cv2
    from PIL import Image
    image = textured_image()
    for crop in crops_of(config):
        for seed in range(4):
            out, reference = crop_and_pil_reference(crop, image, seed, Image.BICUBIC)
            assert np.abs(out.astype(float) - reference).mean() < 0.5, crop
    # the test image tells the two apart: OpenCV's bicubic aliases on it
    aliased = cv2.resize(image, (96, 96), interpolation=cv2.INTER_CUBIC)
    assert np.abs(aliased.astype(float) - pil_resized(
        image, (0, 0, 500, 375), (96, 96), Image.BICUBIC)).mean() > 2


@pytest.mark.parametrize('config, short_side, crop_size', [
    ('vit-small-p16-mst-300e_8xb128-linear-coslr-100e_in1k.py', 256, 224),
    ('vit-toy-p8-mst-toy_1xb32-linear-coslr-20e_toy.py', 73, 64),
])
def test_evaluation_resizes_the_short_side_with_pil_bicubic_then_centre_crops(
        config, short_side, crop_size):
    from PIL import Image
    from torchvision.transforms import CenterCrop, InterpolationMode, Resize
    cfg = Config.fromfile(osp.join(osp.dirname(PRETRAIN_CONFIGS), 'linear', config))
    init_default_scope('mmpretrain')
    steps = [TRANSFORMS.build(t) for t in cfg.test_dataloader.dataset.pipeline
             if t['type'] not in ('LoadImageFromFile', 'PackInputs')]
    for height, width in [(375, 500), (500, 333)]:
        image = textured_image(height, width)
        results = dict(img=image.copy(), img_shape=image.shape[:2], ori_shape=image.shape[:2])
        for step in steps:
            results = step(results)
        # DINO's evaluation transform (eval_linear.py, eval_knn.py) on the PIL image
        rgb = Image.fromarray(np.ascontiguousarray(image[..., ::-1]))
        dino = CenterCrop(crop_size)(Resize(short_side, InterpolationMode.BICUBIC)(rgb))
        assert results['img'].shape == (crop_size, crop_size, 3)
        assert np.abs(results['img'][..., ::-1].astype(float) - np.asarray(dino)).mean() < 0.5


@pytest.mark.parametrize('config', [
    'vit-small-p16-mst-300e_8xb128-linear-coslr-100e_in1k.py',
    'vit-toy-p8-mst-toy_1xb32-linear-coslr-20e_toy.py'])
def test_linear_training_crops_are_pil_bilinear_resizes_as_in_dino(config):
    from PIL import Image
    cfg = Config.fromfile(osp.join(osp.dirname(PRETRAIN_CONFIGS), 'linear', config))
    init_default_scope('mmpretrain')
    crop = TRANSFORMS.build(next(t for t in cfg.train_dataloader.dataset.pipeline
                                 if 'ResizedCrop' in t['type']))
    image = textured_image()
    for seed in range(4):
        out, reference = crop_and_pil_reference(crop, image, seed, Image.BILINEAR)
        assert np.abs(out.astype(float) - reference).mean() < 0.5


def test_fast_color_jitter_gives_mmpretrains_opencv_color_jitter_exactly():
    init_default_scope('mmpretrain')
    params = dict(brightness=0.4, contrast=0.4, saturation=0.2, hue=0.1)
    reference = TRANSFORMS.build(dict(type='ColorJitter', backend='cv2', **params))
    fast = TRANSFORMS.build(dict(type='FastColorJitter', **params))
    rng = np.random.default_rng(0)
    for seed in range(50):
        image = rng.integers(0, 256, (24, 32, 3), dtype=np.uint8)
        np.random.seed(seed)
        expected = reference(dict(img=image.copy()))['img']
        np.random.seed(seed)
        np.testing.assert_array_equal(fast(dict(img=image.copy()))['img'], expected)


def test_the_hue_jitter_runs_under_numpy_2_and_gives_mmcvs_hue(monkeypatch):
    """mmcv's adjust_hue shifts the hue by np.uint8(factor * 255), which NumPy 2 refuses
    for a negative factor (OverflowError: Python integer -17 out of bounds for uint8):
    on a GPU node with NumPy 2, pre-training stopped at its first negative hue jitter.
    FastColorJitter's hue wraps the shift first: the same pixels as mmcv's (NumPy 1),
    and no error where NumPy 2's conversion is in force (emulated here)."""
    import mmcv
    import mmcv.image.photometric as photometric

    from mst_mm.datasets import transforms
    image = np.random.default_rng(0).integers(0, 256, (32, 48, 3), dtype=np.uint8)
    for factor in (-0.1, -0.003, 0., 0.07):
        assert np.array_equal(transforms.adjust_hue(image, factor),
                              mmcv.adjust_hue(image, factor, backend='cv2'))

    class StrictUint8:  # np.uint8 of a Python number out of range raises, as in NumPy 2
        dtype = np.dtype(np.uint8)  # and it still names the dtype (astype)

        def __call__(self, value):
            if isinstance(value, (int, float)) and not 0 <= int(value) <= 255:
                raise OverflowError(f'Python integer {int(value)} out of bounds for uint8')
            return np.uint8(value)

    class NumPy2:
        uint8 = StrictUint8()

        def __getattr__(self, name):
            return getattr(np, name)

    monkeypatch.setattr(photometric, 'np', NumPy2())
    monkeypatch.setattr(transforms, 'np', NumPy2())
    with pytest.raises(OverflowError):
        mmcv.adjust_hue(image, -0.07, backend='cv2')
    assert transforms.adjust_hue(image, -0.07).shape == image.shape
    jitter = TRANSFORMS.build(dict(type='FastColorJitter', hue=0.5))
    for _ in range(20):  # negative hue factors among them
        jitter(dict(img=image.copy()))
