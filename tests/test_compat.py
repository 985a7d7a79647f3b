"""The package imports beside the newer packages a GPU node ships."""
import importlib.metadata
import sys

import pytest

from conftest import run_command


def python(code: str):
    result = run_command([sys.executable, '-c', code], timeout=300)
    return result, result.stdout + result.stderr


@pytest.fixture(scope='module')
def transformers_5():
    version = importlib.metadata.version('transformers')  # a dev requirement
    assert int(version.split('.')[0]) >= 5, version
    importlib.metadata.version('pycocotools')
    return version


def test_mmpretrain_alone_does_not_import_beside_transformers_5(transformers_5):
    """The failure seen on a GPU node: with transformers 5 and pycocotools installed,
    mmpretrain 1.2.0 imports its BLIP models, which subclass what transformers 5 no
    longer has. If this passes, a later mmpretrain fixed it: drop mst_mm.utils.compat."""
    result, log = python('import mmpretrain.models')
    assert result.returncode != 0 and 'NoneType takes no arguments' in log, log[-2000:]


def test_mst_mm_imports_and_leaves_the_multimodal_models_out(transformers_5):
    result, log = python(
        'import mst_mm, mmpretrain.models, mmdet.models, mmseg.models\n'
        'from mmpretrain.utils import dependency\n'
        'from mmpretrain.registry import MODELS\n'
        'from mst_mm.utils import compat\n'
        'print("multimodal", dependency.WITH_MULTIMODAL, MODELS.get("MST").__name__,\n'
        '      "left out", compat.MULTIMODAL_LEFT_OUT)')
    assert result.returncode == 0, log[-2000:]
    assert 'multimodal False MST left out True' in result.stdout
    assert not result.stderr.strip(), result.stderr  # quietly: the tools' output is theirs
