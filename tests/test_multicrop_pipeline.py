"""Specification of the multi-crop data pipeline and of bad images."""
import os
import os.path as osp

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.registry import init_default_scope

from mmpretrain.registry import DATASETS

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
