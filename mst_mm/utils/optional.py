"""Modules of this package that need mmdet or mmsegmentation, imported where they are.

Pre-training needs neither (a GPU node with mmcv built without its ops, say); the
transfer configs' datasets and modules are registered when their library imports.
"""
import importlib
import importlib.util
import warnings
from typing import Dict, List, Sequence, Tuple


def import_optional(package: str, modules: Sequence[Tuple[str, str, List[str]]]
                    ) -> Dict[str, object]:
    """Import each ``(module, library, names)`` of ``package`` whose library imports;
    return the names it defines. A library that is installed but fails to import is
    said in a warning, naming what is then not registered."""
    loaded = {}
    for module, library, names in modules:
        try:
            imported = importlib.import_module(f'.{module}', package)
        except ImportError as error:
            if importlib.util.find_spec(library) is not None:
                warnings.warn(f'{library} is installed but does not import ({error}); '
                              f'{names} of its configs are not registered.')
            continue
        loaded.update({name: getattr(imported, name) for name in names})
    return loaded
