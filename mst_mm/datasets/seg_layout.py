"""The folder and file checks that the checked segmentation datasets share."""
import os.path as osp


class CheckedSegLayoutMixin:
    """Before an mmseg ``BaseSegDataset``: ``load_data_list`` fails, naming the folder or
    files, when the image or label folder is absent, no image is found or an image has
    no label file of the same name (mmseg pairs them without looking).

    Subclasses name the dataset (``dataset_name``), describe its ``layout``, what a
    label file is called (``label_kind``) and how it must be named (``label_naming``,
    formatted with ``suffix``).
    """

    dataset_name = ''
    layout = ''
    label_kind = 'label'
    label_naming = ''

    def load_data_list(self):
        for key in ('img_path', 'seg_map_path'):
            folder = self.data_prefix.get(key)
            if folder and not osp.isdir(folder):
                raise FileNotFoundError(
                    f'{self.dataset_name} {key}: folder {folder} does not exist; expected '
                    f'the layout {self.layout} under {self.data_root}.')
        data_list = super().load_data_list()
        if not data_list:
            raise FileNotFoundError(f'no *{self.img_suffix} images under '
                                    f'{self.data_prefix.get("img_path")}.')
        missing = [info['seg_map_path'] for info in data_list
                   if 'seg_map_path' in info and not osp.isfile(info['seg_map_path'])]
        if missing:
            raise FileNotFoundError(
                f'{len(missing)} of {len(data_list)} images have no {self.label_kind} '
                f'file, e.g. {missing[:3]}: '
                + self.label_naming.format(suffix=self.seg_map_suffix))
        return data_list
