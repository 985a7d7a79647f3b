"""Bad data files are named at build time; what mmdet drops is counted in one warning."""
import json
import warnings

import cv2
import pytest
from mmengine.registry import init_default_scope

from mmdet.registry import DATASETS as DET_DATASETS
from mmseg.registry import DATASETS as SEG_DATASETS

import mst_mm  # noqa: F401
from mst_mm.datasets.toy import make_toy_data


@pytest.fixture(scope='module')
def toy(tmp_path_factory):
    return make_toy_data(str(tmp_path_factory.mktemp('toy')), seed=0, num_train=4,
                         num_val=4, size=(64, 32))


# -- Cityscapes ------------------------------------------------------------------------

def cityscapes(root):
    init_default_scope('mmseg')
    return SEG_DATASETS.build(dict(
        type='ToyCityscapesDataset', data_root=root,
        data_prefix=dict(img_path='leftImg8bit/val', seg_map_path='gtFine/val'),
        pipeline=[]))


@pytest.fixture
def cityscapes_copy(toy, tmp_path):
    import shutil
    shutil.copytree(toy['cityscapes'], tmp_path / 'cityscapes')
    root = tmp_path / 'cityscapes'
    assert len(cityscapes(str(root))) == 4
    return root


def test_a_label_map_of_another_size_than_its_image_is_refused_naming_it(cityscapes_copy):
    label = sorted((cityscapes_copy / 'gtFine' / 'val').rglob('*_labelTrainIds.png'))[1]
    half = cv2.resize(cv2.imread(str(label), cv2.IMREAD_UNCHANGED), (32, 16),
                      interpolation=cv2.INTER_NEAREST)
    cv2.imwrite(str(label), half)
    with pytest.raises(ValueError, match=rf'{label}: a label map of 32x16 pixels for the '
                                         r'image .*_leftImg8bit.png of 64x32'):
        cityscapes(str(cityscapes_copy))


@pytest.mark.parametrize('which', ['image', 'label map'])
def test_an_empty_image_or_label_file_is_refused_naming_it(cityscapes_copy, which):
    folder, pattern = (('leftImg8bit', '*_leftImg8bit.png') if which == 'image' else
                       ('gtFine', '*_labelTrainIds.png'))
    path = sorted((cityscapes_copy / folder / 'val').rglob(pattern))[2]
    path.write_bytes(b'')
    with pytest.raises(ValueError, match=rf'{path}: an empty file \(0 bytes\)'):
        cityscapes(str(cityscapes_copy))


# -- COCO ------------------------------------------------------------------------------

def coco(root, ann_file='annotations/instances_val2017.json'):
    init_default_scope('mmdet')
    return DET_DATASETS.build(dict(
        type='CheckedCocoDataset', data_root=root, ann_file=ann_file,
        data_prefix=dict(img='val2017/'), pipeline=[],
        metainfo=dict(classes=('circle', 'cross', 'square', 'star', 'triangle'))))


@pytest.mark.parametrize('content, error', [
    ('', 'an empty file, not a COCO annotation file'),
    ('images: []', 'not a JSON file'),
    ('[]', 'not a COCO annotation file'),
    ('{"images": [], "annotations": [], "categories": []}', 'no images listed'),
])
def test_an_annotation_file_that_is_not_coco_json_is_refused_naming_it(
        toy, tmp_path, content, error):
    ann_file = tmp_path / 'instances.json'
    ann_file.write_text(content)
    with pytest.raises(ValueError, match=rf'{ann_file}: {error}'):
        coco(toy['coco'], str(ann_file))


def test_an_empty_coco_image_is_refused_naming_it(toy, tmp_path):
    import shutil
    shutil.copytree(toy['coco'], tmp_path / 'coco')
    image = sorted((tmp_path / 'coco' / 'val2017').iterdir())[0]
    image.write_bytes(b'')
    with pytest.raises(ValueError, match=rf'1 images of .* are empty files.*{image.name}'):
        coco(str(tmp_path / 'coco'))


def test_boxes_mmdet_drops_are_counted_in_one_warning(toy, tmp_path):
    original = json.loads(open(f'{toy["coco"]}/annotations/instances_val2017.json').read())
    with warnings.catch_warnings():
        warnings.simplefilter('error')  # the toy annotations are all used: no warning
        kept = sum(len(info['instances']) for info in coco(toy['coco']))
    annotations = original['annotations']
    annotations[0]['bbox'][2] = 0  # zero width
    annotations[1]['bbox'][3] = -4  # negative height
    annotations[2]['area'] = 0
    annotations[3]['category_id'] = 99  # no such category
    ann_file = tmp_path / 'instances.json'
    ann_file.write_text(json.dumps(original))
    with pytest.warns(UserWarning) as caught:
        dataset = coco(toy['coco'], str(ann_file))
    messages = [str(w.message) for w in caught if 'mmdet drops' in str(w.message)]
    assert messages == [f'{ann_file}: 3 boxes under 1 px or of zero area and 1 annotations '
                        'of unknown category ids are left out (mmdet drops them).']
    assert sum(len(info['instances']) for info in dataset) == kept - 4
