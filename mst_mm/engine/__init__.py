from .attention_metrics_hook import AttentionMetricsHook
from .resume import AtomicLocalBackend, check_resume_checkpoint, find_resume_checkpoint
from .collapse_hook import CollapseWarningHook
from .exact_resume import ExactResumeEpochBasedTrainLoop
from .hooks import (BatchAndLrLogHook, ClipGradHook, FreezeLastLayerHook,
                    PretrainedBackboneCheckHook)
from .non_finite import NonFiniteCheckHook, NonFiniteError
from .optimizers import (BackboneLayerDecayOptimWrapperConstructor,
                         MergedGroupsOptimWrapperConstructor)
from .preemption import PreemptionCheckpointHook

__all__ = ['AtomicLocalBackend', 'AttentionMetricsHook',
           'BackboneLayerDecayOptimWrapperConstructor', 'BatchAndLrLogHook', 'ClipGradHook',
           'MergedGroupsOptimWrapperConstructor',
           'CollapseWarningHook', 'ExactResumeEpochBasedTrainLoop', 'FreezeLastLayerHook',
           'NonFiniteCheckHook', 'NonFiniteError', 'PreemptionCheckpointHook',
           'PretrainedBackboneCheckHook',
           'check_resume_checkpoint', 'find_resume_checkpoint']
