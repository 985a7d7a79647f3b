"""Keeping the pinned OpenMMLab stack importable beside newer packages of a node.

mmpretrain 1.2.0 imports its multimodal models (BLIP, BLIP-2, Flamingo, ...) whenever
``pycocotools`` and ``transformers>=4.28`` are installed (``WITH_MULTIMODAL`` in
``mmpretrain.utils.dependency``). Those models subclass classes that transformers 5 no
longer has, so on a node that ships transformers 5 and pycocotools (common on GPU
images) ``import mmpretrain.models`` fails with ``TypeError: NoneType takes no
arguments``. This project uses none of them: with transformers 5 installed, they are
left out before mmpretrain is first imported (quietly: every tool's output stays its
own; ``MULTIMODAL_LEFT_OUT`` says whether it happened).
"""
import importlib.metadata
import importlib.util
import os.path as osp
import sys

#: Whether :func:`skip_mmpretrain_multimodal_on_transformers_5` left them out.
MULTIMODAL_LEFT_OUT = False


def transformers_major_version() -> int:
    """The major version of the installed transformers, 0 if none is."""
    try:
        return int(importlib.metadata.version('transformers').split('.')[0])
    except (importlib.metadata.PackageNotFoundError, ValueError):
        return 0


def skip_mmpretrain_multimodal_on_transformers_5() -> bool:
    """Make mmpretrain leave out its multimodal models where transformers >= 5 is
    installed; returns whether it did. Must run before mmpretrain is imported.

    ``mmpretrain.utils.dependency`` (which imports nothing of mmpretrain) is loaded
    first, with ``WITH_MULTIMODAL = False``; mmpretrain's own imports then find it in
    ``sys.modules``.
    """
    name = 'mmpretrain.utils.dependency'
    if name in sys.modules or transformers_major_version() < 5:
        return False
    if 'mmpretrain' in sys.modules:  # too late: mmpretrain decided already
        return False
    spec = importlib.util.find_spec('mmpretrain')
    if spec is None or not spec.submodule_search_locations:
        return False
    path = osp.join(list(spec.submodule_search_locations)[0], 'utils', 'dependency.py')
    dependency_spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(dependency_spec)
    dependency_spec.loader.exec_module(module)
    global MULTIMODAL_LEFT_OUT
    MULTIMODAL_LEFT_OUT = bool(module.WITH_MULTIMODAL)
    module.WITH_MULTIMODAL = False
    sys.modules[name] = module
    return True
