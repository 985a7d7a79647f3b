"""A COCO dataset that names the file it cannot use and counts what mmdet drops."""
import json
import os
import os.path as osp
import warnings
from collections import Counter

from mmdet.datasets import CocoDataset
from mmdet.registry import DATASETS


@DATASETS.register_module()
class CheckedCocoDataset(CocoDataset):
    """mmdet's ``CocoDataset`` with errors that name the file, and one warning for the
    annotations it drops.

    At build time: an empty or non-JSON annotation file, one that is not a COCO object,
    or one without images is an error naming it (mmdet's is a bare ``JSONDecodeError``),
    and so is an empty (0-byte) image, which OpenCV would later refuse without naming it.
    mmdet silently leaves out boxes under 1 px or of zero area and annotations whose
    category the file does not declare; one warning gives their number.
    """

    def load_data_list(self):
        if osp.isfile(self.ann_file) and osp.getsize(self.ann_file) == 0:
            raise ValueError(f'{self.ann_file}: an empty file, not a COCO annotation file.')
        self._dropped = Counter()
        try:
            data_list = super().load_data_list()
        except (json.JSONDecodeError, UnicodeDecodeError) as error:
            raise ValueError(f'{self.ann_file}: not a JSON file ({error}).') from None
        except AssertionError as error:  # pycocotools: 'annotation file format ...'
            raise ValueError(f'{self.ann_file}: not a COCO annotation file ({error}); '
                             'expected an object with images, annotations and '
                             'categories.') from None
        if not data_list:
            raise ValueError(f'{self.ann_file}: no images listed.')
        empty = [info['img_path'] for info in data_list if _is_empty(info['img_path'])]
        if empty:
            raise ValueError(f'{len(empty)} images of {self.ann_file} are empty files '
                             f'(0 bytes), e.g. {empty[:3]}.')
        if self._dropped:
            warnings.warn(f'{self.ann_file}: {self._dropped["size"]} boxes under 1 px or '
                          f'of zero area and {self._dropped["category"]} annotations of '
                          'unknown category ids are left out (mmdet drops them).')
        return data_list

    def parse_data_info(self, raw_data_info: dict):
        declared = self.coco.cats
        for ann in raw_data_info['raw_ann_info']:
            if ann.get('ignore', False):
                continue
            _, _, w, h = ann['bbox']
            if ann['area'] <= 0 or w < 1 or h < 1:
                self._dropped['size'] += 1
            elif ann['category_id'] not in declared:
                self._dropped['category'] += 1
        return super().parse_data_info(raw_data_info)


def _is_empty(path: str) -> bool:
    """Whether ``path`` is a local file of 0 bytes (a missing one is named on loading)."""
    try:
        return os.stat(path).st_size == 0
    except OSError:
        return False
