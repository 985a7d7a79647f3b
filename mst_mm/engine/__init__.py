from .checkpoints import AtomicLocalBackend, check_resume_checkpoint, find_resume_checkpoint
from .collapse_hook import CollapseWarningHook
from .exact_resume import ExactResumeEpochBasedTrainLoop
from .hooks import FreezeLastLayerHook, PretrainedBackboneCheckHook
from .optimizers import BackboneLayerDecayOptimWrapperConstructor
from .preemption import PreemptionCheckpointHook

__all__ = ['AtomicLocalBackend', 'BackboneLayerDecayOptimWrapperConstructor',
           'CollapseWarningHook', 'ExactResumeEpochBasedTrainLoop', 'FreezeLastLayerHook',
           'PreemptionCheckpointHook', 'PretrainedBackboneCheckHook',
           'check_resume_checkpoint', 'find_resume_checkpoint']
