"""A warning in the log when DINO's teacher has collapsed for a whole epoch."""
from typing import Dict, List, Optional

from mmengine.hooks import Hook

from mmpretrain.registry import HOOKS


@HOOKS.register_module()
class CollapseWarningHook(Hook):
    """Warn when every iteration of an epoch shows one of DINO's two collapses.

    Reads the collapse diagnostics that :class:`DINOLoss` adds to the logged items
    (``teacher_kl_uniform``, ``teacher_marginal_entropy``, in nats):

    - uniform collapse: the teacher's output is the uniform distribution, whatever the
      image (the loss sits at log K): ``teacher_kl_uniform < uniform_kl``;
    - one-prototype collapse: every image goes to the same prototype:
      ``teacher_marginal_entropy < one_prototype_entropy``.

    Args:
        uniform_kl (float): Threshold of the mean KL(P_t || uniform). Defaults to 0.1.
        one_prototype_entropy (float): Threshold of the entropy of the batch-mean teacher
            distribution (two equally used prototypes give log 2 = 0.69). Defaults to 0.1.
    """

    priority = 'LOW'

    def __init__(self, uniform_kl: float = 0.1, one_prototype_entropy: float = 0.1) -> None:
        self.uniform_kl = uniform_kl
        self.one_prototype_entropy = one_prototype_entropy
        self._seen: Dict[str, List[float]] = {}

    def before_train_epoch(self, runner) -> None:
        self._seen = dict(teacher_kl_uniform=[], teacher_marginal_entropy=[])

    def after_train_iter(self, runner, batch_idx: int, data_batch=None,
                         outputs: Optional[dict] = None) -> None:
        for key, values in self._seen.items():
            if outputs is None or key not in outputs:
                raise KeyError(
                    f'CollapseWarningHook needs {key!r} among the logged items of the '
                    "model's losses; DINOLoss's diagnostics provide it.")
            values.append(float(outputs[key]))

    def after_train_epoch(self, runner) -> None:
        kl_uniform = self._seen.get('teacher_kl_uniform', [])
        marginal = self._seen.get('teacher_marginal_entropy', [])
        if not kl_uniform:
            return
        epoch = runner.epoch + 1
        if max(kl_uniform) < self.uniform_kl:
            runner.logger.warning(
                f'DINO uniform collapse during all of epoch {epoch}: the teacher stayed '
                f'within {self.uniform_kl} nats of the uniform distribution (mean '
                f'KL(P_t || uniform) {sum(kl_uniform) / len(kl_uniform):.4f}), so '
                'loss_dino sits at log K and the targets are nearly the same for every '
                'image. A lower teacher temperature or fewer prototypes can help.')
        if max(marginal) < self.one_prototype_entropy:
            runner.logger.warning(
                f'DINO one-prototype collapse during all of epoch {epoch}: every image '
                'went to the same prototype (entropy of the batch-mean teacher '
                f'distribution {sum(marginal) / len(marginal):.4f} < '
                f'{self.one_prototype_entropy} nats). A higher teacher temperature or a '
                'faster center (lower center_momentum) can help.')
