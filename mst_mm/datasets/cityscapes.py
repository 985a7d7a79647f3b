"""Cityscapes datasets that check their folders, and the toy-scene version."""
import os.path as osp

from mmseg.datasets import CityscapesDataset
from mmseg.registry import DATASETS


@DATASETS.register_module()
class CheckedCityscapesDataset(CityscapesDataset):
    """mmseg's ``CityscapesDataset`` that fails at build time, naming what is missing,
    when the image or label folder is absent or an image has no label file.

    mmseg pairs each ``*_leftImg8bit.png`` with the ``*_gtFine_labelTrainIds.png`` of the
    same name without looking for it, so a missing ``gtFine`` folder or mismatched files
    only surface as a file error deep inside a training run.
    """

    def load_data_list(self):
        for key in ('img_path', 'seg_map_path'):
            folder = self.data_prefix.get(key)
            if folder and not osp.isdir(folder):
                raise FileNotFoundError(
                    f'Cityscapes {key}: folder {folder} does not exist; expected the '
                    'layout leftImg8bit/<split>/<city>/ and gtFine/<split>/<city>/ '
                    f'under {self.data_root}.')
        data_list = super().load_data_list()
        if not data_list:
            raise FileNotFoundError(f'no *{self.img_suffix} images under '
                                    f'{self.data_prefix.get("img_path")}.')
        missing = [info['seg_map_path'] for info in data_list
                   if 'seg_map_path' in info and not osp.isfile(info['seg_map_path'])]
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} of {len(data_list)} images have no label file, e.g. '
                f'{missing[:3]}: the gtFine files must be named like the images, with '
                f'{self.seg_map_suffix}.')
        return data_list


@DATASETS.register_module()
class ToyCityscapesDataset(CheckedCityscapesDataset):
    """The toy scenes of ``tools/dataset_converters/make_toy_data.py`` in the Cityscapes
    layout: train id 0 is the background, 1-5 the shapes."""

    METAINFO = dict(
        classes=('background', 'circle', 'cross', 'square', 'star', 'triangle'),
        palette=[[0, 0, 0], [220, 20, 60], [0, 0, 142], [250, 170, 30], [107, 142, 35],
                 [70, 130, 180]])
