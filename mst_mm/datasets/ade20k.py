"""ADE20K datasets that check their folders and labels, and the toy-scene version."""

import numpy as np

from mmseg.datasets import ADE20KDataset
from mmseg.registry import DATASETS

from .seg_layout import CheckedSegLayoutMixin


@DATASETS.register_module()
class CheckedADE20KDataset(CheckedSegLayoutMixin, ADE20KDataset):
    """mmseg's ``ADE20KDataset`` that names the file at fault when the data is wrong.

    At build time it fails, naming the folder or files, when the image or annotation
    folder is absent or an image has no annotation of the same name. When a sample is
    loaded it fails, naming the annotation file, on a label outside the class range:
    ADE20K annotations hold 0 ("other", ignored with ``reduce_zero_label=True``) and
    the classes 1..N. mmseg would pass such a label on to the loss (an index error far
    from its cause, or a device-side assert on GPU) and ``IoUMetric`` would drop it
    from its histograms without a word. The check runs on the label map that leaves
    the pipeline, so it costs no extra reading.
    """

    dataset_name = 'ADE20K'
    layout = ('images/<split>/*.jpg and annotations/<split>/*.png (split: training, '
              'validation)')
    label_kind = 'annotation'
    label_naming = 'each image needs a {suffix} annotation of the same name.'

    def prepare_data(self, idx):
        results = super().prepare_data(idx)
        if results is not None:  # a test split may have no annotations: nothing to check
            self.check_labels(results, self.get_data_info(idx).get('seg_map_path'))
        return results

    def check_labels(self, results: dict, seg_map_path: str) -> None:
        """Raise ``ValueError`` naming ``seg_map_path`` on a label out of class range."""
        samples = results.get('data_samples')
        samples = samples if isinstance(samples, list) else [samples]
        maps = [s.gt_sem_seg.data.numpy() for s in samples
                if s is not None and 'gt_sem_seg' in s]
        if 'gt_seg_map' in results:  # a pipeline without PackSegInputs
            maps.append(results['gt_seg_map'])
        num_classes = len(self.metainfo['classes'])
        for seg_map in maps:
            values = np.unique(seg_map)
            bad = values[(values >= num_classes) & (values != self.ignore_index)]
            if bad.size:
                # The values as stored in the file, before reduce_zero_label.
                stored = (bad + 1) if self.reduce_zero_label else bad
                first = 1 if self.reduce_zero_label else 0
                raise ValueError(
                    f'{seg_map_path}: label {int(stored[0])} is outside the class range '
                    f'{first}..{first + num_classes - 1} of {type(self).__name__} '
                    f'({num_classes} classes'
                    + ('; 0 is "other", ignored' if self.reduce_zero_label else '')
                    + f'); out-of-range labels: {stored.astype(int).tolist()}.')


@DATASETS.register_module()
class ToyADE20KDataset(CheckedADE20KDataset):
    """The toy scenes of ``mst_mm.datasets.toy`` in the ADE20K
    layout: label 0 is the background ("other", ignored), 1-5 the shapes."""

    METAINFO = dict(
        classes=('circle', 'cross', 'square', 'star', 'triangle'),
        palette=[[220, 20, 60], [0, 0, 142], [250, 170, 30], [107, 142, 35],
                 [70, 130, 180]])
