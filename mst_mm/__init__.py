"""mst_mm: MST (Masked Self-Supervised Transformer) on OpenMMLab.

Importing the package registers its modules in mmpretrain's registries (configs load it
with ``custom_imports``) and allow-lists the few classes that mmengine checkpoints hold,
so that ``--resume`` works with torch's weights-only loading.
"""
from .checkpoint import allow_mmengine_checkpoints

allow_mmengine_checkpoints()

from . import datasets, engine, models  # noqa: E402,F401  (registers the modules)

__version__ = '0.1.0'
