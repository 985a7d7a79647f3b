"""Specification of ``mst_mm.datasets.toy`` and its command line
``tools/dataset_converters/make_toy_data.py``."""
import copy
import json
from collections import Counter
from pathlib import Path
from typing import Dict

import cityscapesscripts.evaluation.evalPixelLevelSemanticLabeling as CSEval
import cv2
import numpy as np
import pytest
from cityscapesscripts.helpers.labels import trainId2label
from mmdet.datasets import CocoDataset
from mmpretrain.datasets import CustomDataset
from mmseg.datasets import BaseSegDataset, CityscapesDataset
from pycocotools.coco import COCO

from mst_mm.datasets.toy import (BACKGROUND_GREY, CITIES, CLASSES, OBJECT_GREY,
                                 generate_object_image, imagenet_rng, make_toy_data)
from conftest import run

PARAMS = dict(seed=0, num_train=24, num_val=8, size=(128, 64))
SPLITS = dict(train=PARAMS['num_train'], val=PARAMS['num_val'])


def read_tree(root: Path) -> Dict[str, bytes]:
    """Every file below ``root``, by relative path, with its bytes."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob('*')) if p.is_file()
    }


def read_png(path: Path) -> np.ndarray:
    """Read a PNG as stored (any bit depth and number of channels)."""
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    assert image is not None, f'cannot read {path}'
    return image


def cityscapes_stem(split: str, image_id: int) -> str:
    """Cityscapes path of the scene of a COCO image id, without suffix."""
    index = image_id - 1
    cities = CITIES[split]
    city = cities[index % len(cities)]
    return f'{split}/{city}/{city}_000000_{index:06d}'


@pytest.fixture(scope='module')
def toy(tmp_path_factory) -> Path:
    """A small toy data set, generated once for the module."""
    out_dir = tmp_path_factory.mktemp('toy')
    make_toy_data(out_dir, **PARAMS)
    return out_dir


@pytest.fixture(scope='module')
def coco(toy) -> Dict[str, COCO]:
    """The COCO annotations of both splits, loaded by pycocotools."""
    return {
        split: COCO(str(toy / f'coco/annotations/instances_{split}2017.json'))
        for split in SPLITS
    }


def test_writes_the_four_datasets_and_a_parameter_record(toy):
    assert sorted(p.name for p in toy.iterdir()) == [
        'ade20k', 'cityscapes', 'coco', 'imagenet', 'toy_data.json'
    ]
    record = json.loads((toy / 'toy_data.json').read_text())
    assert record['seed'] == PARAMS['seed']
    assert record['num_train'] == PARAMS['num_train']
    assert record['num_val'] == PARAMS['num_val']
    assert record['size'] == list(PARAMS['size'])
    assert record['classes'] == list(CLASSES)
    assert 4 <= len(CLASSES) <= 5


def test_rerun_with_same_parameters_reuses_files_untouched(toy, capsys):
    before = {p: p.stat().st_mtime_ns for p in toy.rglob('*')}
    result = make_toy_data(toy, **PARAMS)
    assert 'Reusing' in capsys.readouterr().out
    assert {p: p.stat().st_mtime_ns for p in toy.rglob('*')} == before
    assert result == dict(
        imagenet=str(toy / 'imagenet'),
        coco=str(toy / 'coco'),
        cityscapes=str(toy / 'cityscapes'),
        ade20k=str(toy / 'ade20k'),
        classes=CLASSES)


def test_same_seed_gives_byte_identical_files(toy, tmp_path):
    make_toy_data(tmp_path, **PARAMS)
    assert read_tree(tmp_path) == read_tree(toy)


def test_other_seed_gives_other_scenes(toy, tmp_path):
    make_toy_data(tmp_path, **dict(PARAMS, seed=1, num_train=3))
    for name in ('train_000000', 'train_000002', 'val_000000'):
        split = name.split('_')[0]
        path = f'coco/{split}2017/{name}.jpg'
        assert (tmp_path / path).read_bytes() != (toy / path).read_bytes()


def test_a_scene_does_not_depend_on_the_number_of_scenes(toy, tmp_path):
    make_toy_data(tmp_path, **dict(PARAMS, num_train=3, num_val=2))
    small = read_tree(tmp_path / 'cityscapes')
    assert len(small) == (3 + 2) * 4
    assert small.items() <= read_tree(toy / 'cityscapes').items()


def test_rerun_with_other_parameters_replaces_the_old_data(tmp_path):
    make_toy_data(tmp_path, **dict(PARAMS, num_train=5, num_val=2))
    make_toy_data(tmp_path, **dict(PARAMS, num_train=3, num_val=1))
    assert len(list((tmp_path / 'coco/train2017').iterdir())) == 3
    assert len(list((tmp_path / 'imagenet/train').rglob('*.JPEG'))) == 3
    assert json.loads((tmp_path / 'toy_data.json').read_text())['num_val'] == 1


def test_refuses_an_output_path_that_is_a_file(tmp_path):
    path = tmp_path / 'file'
    path.write_text('')
    with pytest.raises(NotADirectoryError, match='not a folder'):
        make_toy_data(path, **PARAMS)


def test_refuses_to_overwrite_datasets_it_did_not_write(tmp_path):
    (tmp_path / 'coco').mkdir()
    with pytest.raises(FileExistsError, match='refusing to overwrite'):
        make_toy_data(tmp_path, **PARAMS)
    assert (tmp_path / 'coco').is_dir()


def test_command_line_writes_data_and_explains_it(tmp_path):
    tool = 'tools/dataset_converters/make_toy_data.py'
    result, help_text = run(tool, '--help')
    assert result.returncode == 0
    for name in ('imagenet', 'instances_{train2017,val2017}.json',
                 'labelTrainIds', 'toy_data.json', '--num-train', '--size'):
        assert name in help_text

    result, log = run(tool, tmp_path, '--seed', '3', '--num-train', '2', '--num-val', '1',
                      '--size', '96', '48')
    assert result.returncode == 0 and 'Toy data written to' in log
    record = json.loads((tmp_path / 'toy_data.json').read_text())
    assert (record['seed'], record['size']) == (3, [96, 48])
    image = read_png(
        next((tmp_path / 'cityscapes').rglob('*_leftImg8bit.png')))
    assert image.shape == (48, 96, 3)

    result, log = run(tool, tmp_path, '--num-train', '0')
    assert result.returncode != 0 and 'num_train' in log


def test_coco_and_cityscapes_hold_the_same_scenes(toy, coco):
    for split, api in coco.items():
        for img in api.dataset['images']:
            jpeg = (toy / f'coco/{split}2017' / img['file_name']).read_bytes()
            png = read_png(toy / 'cityscapes/leftImg8bit' /
                           f'{cityscapes_stem(split, img["id"])}'
                           '_leftImg8bit.png')
            decoded = cv2.imdecode(
                np.frombuffer(jpeg, np.uint8), cv2.IMREAD_COLOR)
            shape = (img['height'], img['width'], 3)
            assert png.shape == decoded.shape == shape
            # JPEG is lossy: the copies agree up to compression noise.
            assert np.abs(png.astype(int) - decoded).mean() < 4


def test_imagenet_label_is_class_of_largest_shape_of_the_scene(toy, coco):
    for split, api in coco.items():
        scene_labels = {}
        for img in api.dataset['images']:
            anns = api.loadAnns(api.getAnnIds(imgIds=img['id']))
            largest = max(anns, key=lambda ann: ann['area'])
            scene_labels[Path(img['file_name']).stem] = (
                largest['category_id'] - 1)
        meta = (toy / f'imagenet/meta/{split}.txt').read_text().splitlines()
        assert len(meta) == len(scene_labels) == SPLITS[split]
        for line in meta:
            path, label = line.split()
            assert int(label) == scene_labels[Path(path).stem]
            assert path.split('/')[0] == CLASSES[int(label)]


def test_imagenet_images_are_squares_of_the_short_scene_side(toy):
    side = min(PARAMS['size'])
    for split, num in SPLITS.items():
        paths = sorted((toy / 'imagenet' / split).rglob('*.JPEG'))
        assert len(paths) == num
        for path in paths:
            image = cv2.imread(str(path), cv2.IMREAD_COLOR)
            assert image.shape == (side, side, 3)


def test_imagenet_image_is_one_large_contrasting_shape_of_its_label(toy):
    side = min(PARAMS['size'])
    for split_index, split in enumerate(SPLITS):
        meta = (toy / f'imagenet/meta/{split}.txt').read_text().splitlines()
        for line in meta:
            path, label = line.split()
            index = int(Path(path).stem.split('_')[1])
            obj = generate_object_image(
                imagenet_rng(PARAMS['seed'], split_index, index),
                index % len(CLASSES), side)
            # The file is that image, with the drawn shape's class as label.
            assert obj.label == int(label)
            decoded = cv2.imread(str(toy / 'imagenet' / split / path))
            assert np.abs(obj.image.astype(int) - decoded).mean() < 4
            # One shape: a single connected region, painted in one colour
            # (up to the pixel noise) that stands out from the background.
            mask = obj.shape.mask
            num_regions = cv2.connectedComponents(mask.astype(np.uint8))[0]
            assert num_regions == 2  # background + the shape
            inside = obj.image[mask].astype(float)
            outside = obj.image[~mask].astype(float)
            assert np.abs(inside.mean(0) - obj.colour).max() < 3
            assert np.linalg.norm(inside.mean(0) - outside.mean(0)) > 80
            assert (inside.mean(-1).mean() - outside.mean(-1).mean()) > 80
            # Large: its extent is about half to nine tenths of the side,
            # and it lies entirely inside the image.
            x, y, w, h = obj.shape.bbox
            assert 0.45 * side <= max(w, h) <= 0.9 * side + 1
            assert x >= 1 and y >= 1
            assert x + w <= side - 1 and y + h <= side - 1


def test_imagenet_annotations_hold_each_images_shape_as_a_coco_instance(toy):
    """instances_<split>.json: one instance per image, of its label, whose mask is the
    bright pixels of the decoded image."""
    for split, count in SPLITS.items():
        ann_file = toy / 'imagenet' / 'annotations' / f'instances_{split}.json'
        coco = COCO(str(ann_file))
        assert len(coco.imgs) == count
        labels = dict(line.split() for line in
                      (toy / f'imagenet/meta/{split}.txt').read_text().splitlines())
        for image_id, info in coco.imgs.items():
            anns = coco.imgToAnns[image_id]
            assert len(anns) == 1
            assert anns[0]['category_id'] == int(labels[info['file_name']]) + 1
            decoded = cv2.imread(str(toy / 'imagenet' / split / info['file_name']))
            assert decoded.shape[:2] == (info['height'], info['width'])
            bright = decoded.mean(-1) > 128
            mask = coco.annToMask(anns[0]).astype(bool)
            assert (bright & mask).sum() / (bright | mask).sum() > 0.95


def test_imagenet_images_differ_only_in_the_shape_and_its_pose():
    """One grey level for every shape and one for every background, so that
    pre-training cannot tell two images apart by colour or brightness; the
    shapes vary in position, size and rotation."""
    side = 64
    objs = [generate_object_image(imagenet_rng(0, 0, index), 2, side)
            for index in range(20)]
    for obj in objs:
        mask = obj.shape.mask
        inside = obj.image[mask].astype(float).mean(0)
        outside = obj.image[~mask].astype(float).mean(0)
        assert np.abs(inside - OBJECT_GREY).max() < 3
        assert np.abs(outside - BACKGROUND_GREY).max() < 3
        # A plain background: only the pixel noise varies.
        assert obj.image[~mask].astype(float).std(axis=0).max() < 8
    boxes = np.array([obj.shape.bbox for obj in objs])
    assert (boxes.std(axis=0) > 1).all()
    # Squares of one size may still differ in extent: they are rotated.
    areas = np.array([obj.shape.area for obj in objs])
    assert areas.std() > 0.02 * side**2


def test_imagenet_stream_is_not_the_scene_stream():
    scene_rng = np.random.default_rng((0, 0, 0))
    object_rng = imagenet_rng(0, 0, 0)
    assert (scene_rng.integers(0, 2**32, 8) !=
            object_rng.integers(0, 2**32, 8)).any()


def test_every_class_gets_images(toy):
    for split, num in SPLITS.items():
        counts = Counter(
            p.parent.name for p in (toy / 'imagenet' / split).rglob('*.JPEG'))
        assert sorted(counts) == sorted(CLASSES)
        assert min(counts.values()) >= num // len(CLASSES)


def test_scenes_hold_several_non_overlapping_shapes(coco):
    for api in coco.values():
        for img in api.dataset['images']:
            anns = api.loadAnns(api.getAnnIds(imgIds=img['id']))
            assert 2 <= len(anns) <= 5
            cover = sum(api.annToMask(ann).astype(int) for ann in anns)
            assert cover.max() == 1


def test_scenes_are_painted_in_the_grey_levels_of_the_imagenet_images(toy, coco):
    """The transfer scenes are in the pre-training domain: every shape in
    OBJECT_GREY on a plain BACKGROUND_GREY, whatever its class."""
    for split, api in coco.items():
        for img in api.dataset['images']:
            image = cv2.imread(str(toy / f'coco/{split}2017' / img['file_name']))
            anns = api.loadAnns(api.getAnnIds(imgIds=img['id']))
            cover = np.zeros(image.shape[:2], bool)
            for ann in anns:
                mask = api.annToMask(ann).astype(bool)
                inside = image[mask].astype(float).mean(0)
                assert np.abs(inside - OBJECT_GREY).max() < 4
                cover |= mask
            outside = image[~cover].astype(float)
            assert np.abs(outside.mean(0) - BACKGROUND_GREY).max() < 3
            assert outside.std(axis=0).max() < 8


def test_coco_masks_match_areas_boxes_and_cityscapes_maps(toy, coco):
    for split, api in coco.items():
        categories = api.loadCats(api.getCatIds())
        assert [cat['name'] for cat in categories] == list(CLASSES)
        for img in api.dataset['images']:
            stem = cityscapes_stem(split, img['id'])
            train_ids = read_png(toy / 'cityscapes/gtFine' /
                                 f'{stem}_gtFine_labelTrainIds.png')
            image = read_png(toy / 'cityscapes/leftImg8bit' /
                             f'{stem}_leftImg8bit.png')
            class_cover = np.zeros_like(train_ids)
            for ann in api.loadAnns(api.getAnnIds(imgIds=img['id'])):
                mask = api.annToMask(ann).astype(bool)
                assert ann['iscrowd'] == 0
                assert mask.sum() == ann['area']
                rows, cols = np.nonzero(mask)
                assert ann['bbox'] == [
                    cols.min(),
                    rows.min(),
                    cols.max() - cols.min() + 1,
                    rows.max() - rows.min() + 1
                ]
                # The polygon is exactly the painted, labelled region.
                assert (train_ids[mask] == ann['category_id']).all()
                class_cover[mask] = ann['category_id']
            assert (class_cover == train_ids).all()
            # Painted exactly there: bright inside the polygons, dark outside
            # (pixel noise aside).
            middle = (OBJECT_GREY + BACKGROUND_GREY) / 2
            assert ((image.mean(axis=2) > middle) == (class_cover > 0)).all()


def test_label_ids_are_the_cityscapes_ids_of_the_train_ids(toy):
    train_id_files = sorted(
        (toy / 'cityscapes/gtFine').rglob('*_labelTrainIds.png'))
    assert len(train_id_files) == sum(SPLITS.values())
    for path in train_id_files:
        train_ids = read_png(path)
        label_ids = read_png(
            Path(str(path).replace('labelTrainIds', 'labelIds')))
        instance_ids = read_png(
            Path(str(path).replace('labelTrainIds', 'instanceIds')))
        assert train_ids.dtype == label_ids.dtype == np.uint8
        assert set(np.unique(train_ids)) <= set(range(len(CLASSES) + 1))
        expected = np.vectorize(lambda t: trainId2label[t].id)(train_ids)
        assert (label_ids == expected).all()
        # Like Cityscapes for classes without instances.
        assert instance_ids.dtype == np.uint16
        assert (instance_ids == label_ids).all()
    assert not any(trainId2label[t].hasInstances
                   for t in range(len(CLASSES) + 1))


def test_cityscapesscripts_evaluation_scores_the_label_ids(toy):
    ground_truth = sorted(
        str(p) for p in (toy / 'cityscapes/gtFine').rglob('*_labelIds.png'))
    # The settings of mmseg's CityscapesMetric; it reads instanceIds too.
    args = copy.copy(CSEval.args)
    args.evalInstLevelScore = True
    args.evalPixelAccuracy = True
    args.JSONOutput = False
    args.quiet = True
    results = CSEval.evaluateImgLists(ground_truth, ground_truth, args)
    scores = {
        name: score
        for name, score in results['classScores'].items()
        if not np.isnan(score)
    }
    assert scores == {
        trainId2label[t].name: 1.0
        for t in range(len(CLASSES) + 1)
    }
    assert results['averageScoreClasses'] == 1.0


def test_cityscapes_copy_has_two_train_cities_and_one_val_city(toy):
    for split, cities in (('train', 2), ('val', 1)):
        for kind in ('leftImg8bit', 'gtFine'):
            folders = list((toy / 'cityscapes' / kind / split).iterdir())
            assert len(folders) == cities


def image_labels(dataset: CustomDataset) -> Dict[str, int]:
    """The label of every image of an mmpretrain dataset, by path."""
    return {
        info['img_path']: info['gt_label']
        for info in map(dataset.get_data_info, range(len(dataset)))
    }


def test_mmpretrain_custom_dataset_reads_folders_and_ann_file(toy):
    root = str(toy / 'imagenet')
    for split, num in SPLITS.items():
        scanned = CustomDataset(data_root=root, data_prefix=split)
        listed = CustomDataset(
            data_root=root,
            data_prefix=split,
            ann_file=f'meta/{split}.txt',
            metainfo=dict(classes=f'{root}/meta/classes.txt'))
        assert tuple(scanned.CLASSES) == tuple(listed.CLASSES) == CLASSES
        labels = image_labels(listed)
        assert image_labels(scanned) == labels
        assert len(labels) == num
        for path, label in labels.items():
            assert Path(path).parent.name == CLASSES[label]


def test_mmpretrain_folder_scan_sees_every_class_of_a_tiny_split(tmp_path):
    params = dict(PARAMS, num_train=2, num_val=1)
    root = make_toy_data(tmp_path, **params)['imagenet']
    for split in SPLITS:
        scanned = CustomDataset(data_root=root, data_prefix=split)
        listed = CustomDataset(
            data_root=root,
            data_prefix=split,
            ann_file=f'meta/{split}.txt',
            metainfo=dict(classes=CLASSES))
        assert tuple(scanned.CLASSES) == CLASSES
        assert image_labels(scanned) == image_labels(listed)


def test_mmdet_coco_dataset_finds_all_images(toy):
    for split, num in SPLITS.items():
        dataset = CocoDataset(
            data_root=str(toy / 'coco'),
            ann_file=f'annotations/instances_{split}2017.json',
            data_prefix=dict(img=f'{split}2017/'),
            metainfo=dict(classes=CLASSES),
            pipeline=[])
        assert len(dataset) == num
        assert dataset.metainfo['classes'] == CLASSES
        for index in range(num):
            info = dataset.get_data_info(index)
            assert Path(info['img_path']).is_file()
            assert 2 <= len(info['instances']) <= 5
            for instance in info['instances']:
                assert 0 <= instance['bbox_label'] < len(CLASSES)
                assert len(instance['mask'][0]) >= 6


def check_cityscapes_pairs(dataset: BaseSegDataset, root: Path, split: str,
                           num: int) -> None:
    """Check that an mmseg dataset pairs each image with its train ids."""
    assert len(dataset) == num
    for index in range(num):
        info = dataset.get_data_info(index)
        image = Path(info['img_path'])
        seg_map = Path(info['seg_map_path'])
        assert image.is_file() and seg_map.is_file()
        assert image.relative_to(root / 'leftImg8bit' / split).parent == (
            seg_map.relative_to(root / 'gtFine' / split).parent)
        assert seg_map.name == image.name.replace('leftImg8bit.png',
                                                  'gtFine_labelTrainIds.png')


def test_mmseg_cityscapes_dataset_finds_all_pairs(toy):
    for split, num in SPLITS.items():
        dataset = CityscapesDataset(
            data_root=str(toy / 'cityscapes'),
            data_prefix=dict(
                img_path=f'leftImg8bit/{split}',
                seg_map_path=f'gtFine/{split}'),
            pipeline=[])
        check_cityscapes_pairs(dataset, toy / 'cityscapes', split, num)


def test_mmseg_cityscapes_dataset_with_the_shape_classes_finds_all_pairs(toy):
    # CityscapesDataset refuses classes that are not Cityscapes classes in
    # its metainfo argument; a subclass declares them in METAINFO instead.
    class ToyCityscapesDataset(CityscapesDataset):
        METAINFO = dict(
            classes=('background', ) + CLASSES,
            palette=[[40 * i, 255 - 40 * i, 120]
                     for i in range(len(CLASSES) + 1)])

    for split, num in SPLITS.items():
        dataset = ToyCityscapesDataset(
            data_root=str(toy / 'cityscapes'),
            data_prefix=dict(
                img_path=f'leftImg8bit/{split}',
                seg_map_path=f'gtFine/{split}'),
            pipeline=[])
        assert dataset.metainfo['classes'] == ('background', ) + CLASSES
        assert dataset.label_map is None
        check_cityscapes_pairs(dataset, toy / 'cityscapes', split, num)
