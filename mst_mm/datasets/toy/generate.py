"""Writes the whole toy data set, or reuses an up-to-date copy of it.

Output is deterministic: the same parameters give byte-identical files.
"""
import json
import shutil
import time
from pathlib import Path
from typing import Dict, Sequence, Tuple, Union

import numpy as np

from .painter import generate_object_image, generate_scene, imagenet_rng
from .shapes import CLASSES
from .writers import ToyDataWriter

META_FILE = 'toy_data.json'
DATASET_DIRS = ('imagenet', 'coco', 'cityscapes', 'ade20k')
#: Bump when the generator changes its output, so old copies are regenerated.
FORMAT_VERSION = 5
PROGRESS_EVERY = 64


def check_params(num_train: int, num_val: int, size: Sequence[int],
                 num_shapes: Sequence[int]) -> None:
    """Raise ``ValueError`` on parameters the generator cannot honour."""
    if num_train < 1 or num_val < 1:
        raise ValueError('num_train and num_val must be at least 1, got '
                         f'{num_train} and {num_val}')
    if len(size) != 2 or min(size) < 32:
        raise ValueError(f'size must be (width, height), each at least 32 '
                         f'pixels, got {tuple(size)}')
    if len(num_shapes) != 2 or not 1 <= num_shapes[0] <= num_shapes[1]:
        raise ValueError('num_shapes must be (min, max) with '
                         f'1 <= min <= max, got {tuple(num_shapes)}')


def prepare_out_dir(out_dir: Path, meta: dict, force: bool, meta_file: str = META_FILE,
                    dataset_dirs: Sequence[str] = DATASET_DIRS) -> bool:
    """Check ``out_dir`` and clear stale toy data (its ``dataset_dirs``, described by
    ``meta_file``) from it.

    Returns:
        bool: True if ``out_dir`` already holds the toy data of ``meta``.
    """
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(
            f'Output folder {out_dir} exists and is not a folder')
    meta_path = out_dir / meta_file
    present = [out_dir / d for d in dataset_dirs if (out_dir / d).exists()]
    if not meta_path.is_file():
        if present:
            raise FileExistsError(
                f'{present[0]} exists but {meta_path} does not, so it is not '
                'toy data written by this tool; refusing to overwrite it. '
                'Remove it or choose another output folder.')
        return False
    try:
        up_to_date = json.loads(meta_path.read_text()) == meta
    except json.JSONDecodeError:
        up_to_date = False
    if up_to_date and not force and len(present) == len(dataset_dirs):
        return True
    meta_path.unlink()
    for path in present:
        shutil.rmtree(path)
    return False


def make_toy_data(out_dir: Union[str, Path],
                  seed: int = 0,
                  num_train: int = 256,
                  num_val: int = 64,
                  size: Tuple[int, int] = (256, 128),
                  num_shapes: Tuple[int, int] = (2, 5),
                  force: bool = False) -> Dict[str, object]:
    """Write the toy data set to ``out_dir`` (or reuse an up-to-date copy).

    The output is reused when ``out_dir/toy_data.json`` records the same
    parameters. Toy data written with other parameters is replaced.

    Args:
        out_dir: Output folder.
        seed: Random seed; the same seed gives byte-identical files.
        num_train: Number of training scenes.
        num_val: Number of validation scenes.
        size: Canvas (width, height) of the COCO and Cityscapes scenes; the
            ImageNet images are squares of side ``min(size)``.
        num_shapes: Inclusive (min, max) number of shapes per COCO /
            Cityscapes / ADE20K scene (an ImageNet image has one).
        force: Regenerate even if an up-to-date copy exists.

    Returns:
        dict: ``imagenet``, ``coco``, ``cityscapes`` and ``ade20k``: the
        dataset roots (str); ``classes``: the shape classes.
    """
    check_params(num_train, num_val, size, num_shapes)
    out_dir = Path(out_dir)
    meta = dict(
        version=FORMAT_VERSION,
        seed=seed,
        num_train=num_train,
        num_val=num_val,
        size=list(size),
        num_shapes=list(num_shapes),
        classes=list(CLASSES))
    result = {name: str(out_dir / name) for name in DATASET_DIRS}
    result['classes'] = CLASSES
    if prepare_out_dir(out_dir, meta, force):
        print(f'Reusing up-to-date toy data in {out_dir}')
        return result

    start = time.perf_counter()
    writer = ToyDataWriter(out_dir)
    splits = (('train', num_train), ('val', num_val))
    for split_index, (split, num) in enumerate(splits):
        for index in range(num):
            # One generator per scene: a scene does not depend on the
            # number of scenes, and labels cycle so every class has images.
            label = index % len(CLASSES)
            rng = np.random.default_rng((seed, split_index, index))
            scene = generate_scene(rng, label, num_shapes, size)
            obj = generate_object_image(
                imagenet_rng(seed, split_index, index), label, min(size))
            writer.add(split, index, scene, obj)
            if (index + 1) % PROGRESS_EVERY == 0 or index + 1 == num:
                print(f'[{split}] {index + 1}/{num} scenes')
    writer.finish()
    meta_text = json.dumps(meta, indent=2, sort_keys=True)
    (out_dir / META_FILE).write_text(meta_text + '\n')

    print(f'Toy data written to {out_dir} in '
          f'{time.perf_counter() - start:.1f} s '
          f'({num_train} train / {num_val} val scenes, {size[0]}x{size[1]})')
    for name in DATASET_DIRS:
        print(f'  {name + ":":12s}{result[name]}')
    print(f'  {"classes:":12s}{", ".join(CLASSES)}')
    return result
