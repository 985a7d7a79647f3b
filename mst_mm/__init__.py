"""mst_mm: MST (Masked Self-Supervised Transformer) on OpenMMLab.

Importing the package registers its modules in mmpretrain's registries (configs load it
with ``custom_imports``), makes mmengine load every checkpoint weights-only, and
allow-lists the few classes that mmengine checkpoints hold, so that ``--resume`` works.
Where transformers >= 5 is installed it first keeps mmpretrain from importing its
multimodal models, which break with it (``mst_mm.utils.compat``).
"""
import warnings

from .utils.compat import skip_mmpretrain_multimodal_on_transformers_5

skip_mmpretrain_multimodal_on_transformers_5()  # before anything imports mmpretrain

from .safe_load import allow_mmengine_checkpoints, load_checkpoints_weights_only  # noqa: E402

# mmengine resolves `mmdet::`/`mmseg::` base configs with pkg_resources, which setuptools
# deprecates loudly on every import; the project pins a setuptools that still has it.
warnings.filterwarnings('ignore', message='pkg_resources is deprecated', category=UserWarning)

allow_mmengine_checkpoints()
load_checkpoints_weights_only()

from . import datasets, engine, models  # noqa: E402,F401  (registers the modules)

__version__ = '0.1.0'
