"""MST: Masked Self-Supervised Transformer (Li et al., NeurIPS 2021).

Read top to bottom, ``MST.loss`` is the method:

1. the teacher (an EMA of the student) embeds the global crops; the self-attention of
   its last-block [CLS] query over the patches says where the object is;
2. the attention-guided mask hides low-attention patches of the student's global crops
   behind a learnable [MASK] token;
3. the student embeds the masked global crops and the unmasked local crops, and the DINO
   loss distils the teacher's prototypes into the student's;
4. the global image decoder restores the whole global crop from all the student's patch
   tokens, with an L1 restoring loss: ``L = L_dino + lambda * L_restore``.

With ``mask_generator=None`` and ``restore_weight=0`` it is DINO's objective (the tests
check it against DINO's published equations; the README lists what still departs from
DINO's reference code).
"""
from contextlib import nullcontext
from typing import Dict, List, Optional, Tuple

import torch
from mmengine.logging import MessageHub, print_log
from torch import nn
from torch.profiler import record_function

from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample

from .teacher_ema import TeacherEMA
from .vit_utils import (also_output_last_block_input, last_block_cls_attention,
                        masked_patch_embedding)


@MODELS.register_module()
class MST(BaseSelfSupervisor):
    """MST self-supervised pre-training of a ViT.

    Args:
        backbone (dict): An mmpretrain ``VisionTransformer`` with ``out_type='raw'``.
        head (dict): The DINO projection head (:class:`DINOHead`).
        dino_loss (dict): The DINO loss (:class:`DINOLoss`).
        mask_generator (dict, optional): The attention-guided mask
            (:class:`AttentionGuidedMaskGenerator`); ``None`` switches masking off and
            drops the [MASK] token.
        decoder (dict, optional): The global image decoder (:class:`GlobalImageDecoder`).
        restore_loss (dict): Pixel loss between the restored and the input global
            crop. Defaults to L1 over all pixels.
        restore_weight (float): lambda in ``L_dino + lambda * L_restore``. With 0 the
            decoder is not built. Defaults to 1.0.
        num_global_crops (int): The first views of a sample are the global crops,
            which the teacher sees and the mask applies to. Defaults to 2.
        teacher_momentum (float): Weight of the student in the teacher's EMA at the
            start (mmengine's convention: DINO's 0.996 is 0.004). Defaults to 0.004.
        teacher_end_momentum (float): The same at the end of training, reached by a
            cosine schedule. Defaults to 0 (DINO's 1.0).
        compile_blocks (bool): ``torch.compile`` every transformer block of the student
            and the teacher (see :meth:`compile_blocks`). Defaults to False.
    """

    def __init__(self,
                 backbone: dict,
                 head: dict,
                 dino_loss: dict,
                 mask_generator: Optional[dict] = None,
                 decoder: Optional[dict] = None,
                 restore_loss: dict = dict(type='PixelReconstructionLoss', criterion='L1'),
                 restore_weight: float = 1.0,
                 num_global_crops: int = 2,
                 teacher_momentum: float = 0.004,
                 teacher_end_momentum: float = 0.,
                 compile_blocks: bool = False,
                 data_preprocessor: Optional[dict] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(
            backbone=backbone, head=head, data_preprocessor=data_preprocessor,
            init_cfg=init_cfg)
        if getattr(self.backbone, 'out_type', None) != 'raw':
            raise ValueError("MST needs the backbone's raw tokens: set "
                             "backbone.out_type='raw'.")
        if restore_weight < 0:
            raise ValueError(f'restore_weight must be >= 0, got {restore_weight}.')
        self.num_global_crops = num_global_crops
        self.dino_loss = MODELS.build(dino_loss)

        # Teacher: the same backbone and head, updated only as an EMA of the student.
        self.teacher = TeacherEMA(
            nn.ModuleDict(dict(backbone=self.backbone, head=self.head)),
            momentum=teacher_momentum, end_momentum=teacher_end_momentum)

        self.mask_generator = MODELS.build(mask_generator) if mask_generator else None
        if self.mask_generator is not None:
            self.mask_token = nn.Parameter(torch.zeros(1, 1, self.backbone.embed_dims))

        self.restore_weight = float(restore_weight)
        self.decoder = None
        if self.restore_weight > 0:
            if decoder is None:
                raise ValueError('restore_weight > 0 needs a decoder config.')
            self.decoder = MODELS.build(decoder)
            self.restore_loss = MODELS.build(restore_loss)
        elif decoder is not None:
            print_log('restore_weight is 0: the global image decoder is not built.',
                      logger='current')
        if compile_blocks:
            self.compile_blocks()

    def compile_blocks(self) -> None:
        """``torch.compile`` each transformer block of the student and the teacher.

        Static shapes: one graph per crop size and grad mode (the student's global and
        local crops, the teacher's global crops), each fused for its size. Nothing inside
        a block is hooked (the [CLS] attention is recomputed from the last block's
        input), so no block breaks its graph. Dynamo's recompile limit is raised to 64:
        a torch that guards on each block instance needs 3 graphs per block, and past
        its default of 8 it runs the rest eager (on the H200 run, torch 2.11, 60 of the
        step's 75 layer norms stayed eager).
        """
        import torch._dynamo
        for limit in ('recompile_limit', 'cache_size_limit'):
            if hasattr(torch._dynamo.config, limit):
                setattr(torch._dynamo.config, limit,
                        max(getattr(torch._dynamo.config, limit), 64))
        for vit in (self.backbone, self.teacher.module['backbone']):
            for layer in vit.layers:
                layer.compile(dynamic=False)

    def init_weights(self) -> None:
        super().init_weights()
        if self.mask_generator is not None:
            nn.init.trunc_normal_(self.mask_token, std=0.02)

    def train(self, mode: bool = True) -> 'MST':
        """The teacher always runs in eval mode: no drop path, as in DINO."""
        super().train(mode)
        self.teacher.eval()
        return self

    def extract_feat(self, inputs: List[torch.Tensor]):
        """Student backbone features of the first view."""
        return self.backbone(inputs[0])

    # -- the method ---------------------------------------------------------------

    def loss(self, inputs: List[torch.Tensor], data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        """The MST losses of a batch of multi-crop views (global crops first)."""
        num_global = self.num_global_crops
        global_crops = torch.cat(inputs[:num_global])
        local_crops = torch.cat(inputs[num_global:]) if len(inputs) > num_global else None

        # Phases are labelled for the step profile of mst_mm.analysis.speed.
        with torch.no_grad(), record_function('teacher_forward'):
            self.teacher.update_parameters(
                nn.ModuleDict(dict(backbone=self.backbone, head=self.head)))
            teacher_out, attention = self.teacher_forward(global_crops)

        with record_function('masking'):
            mask = (self.mask_generator(attention)
                    if self.mask_generator is not None else None)
        with record_function('student_forward'):
            student_out, patch_tokens = self.student_forward(global_crops, local_crops, mask)

        epoch = MessageHub.get_current_instance().get_info('epoch', 0)
        losses = dict(loss_dino=self.dino_loss(
            student_out.chunk(len(inputs)), teacher_out.chunk(num_global), epoch))
        losses.update(self.dino_loss.diagnostics)  # logged, not summed: no 'loss' in a key
        if mask is not None:
            losses['mask_ratio'] = mask.float().mean()
        if self.decoder is not None:
            with record_function('decoder'):
                restored = self.decoder(patch_tokens, self.patch_grid(global_crops))
                losses['loss_restore'] = self.restore_weight * self.restore_loss(
                    restored, global_crops)
        return losses

    @torch.no_grad()
    def teacher_forward(self, global_crops: torch.Tensor
                        ) -> Tuple[torch.Tensor, Optional[torch.Tensor]]:
        """Teacher prototypes of the global crops and, when masking, the last-block
        [CLS] attention over their patches (B, N)."""
        backbone, head = self.teacher.module['backbone'], self.teacher.module['head']
        if self.mask_generator is None:
            return head(backbone(global_crops)[-1][:, 0]), None
        with also_output_last_block_input(backbone):
            *_, block_input, tokens = backbone(global_crops)
        return head(tokens[:, 0]), last_block_cls_attention(backbone, block_input)

    def student_forward(self, global_crops: torch.Tensor,
                        local_crops: Optional[torch.Tensor],
                        mask: Optional[torch.Tensor]) -> Tuple[torch.Tensor, torch.Tensor]:
        """Student prototypes of all crops (global first) and the patch tokens of the
        (masked) global crops."""
        masking = (masked_patch_embedding(self.backbone, mask, self.mask_token)
                   if mask is not None else nullcontext())
        with masking:
            global_tokens = self.backbone(global_crops)[-1]
        cls_tokens = [global_tokens[:, 0]]
        if local_crops is not None:
            cls_tokens.append(self.backbone(local_crops)[-1][:, 0])
        student_out = self.head(torch.cat(cls_tokens))
        return student_out, global_tokens[:, self.backbone.num_extra_tokens:]

    def patch_grid(self, images: torch.Tensor) -> Tuple[int, int]:
        """(h, w) of the patch grid of images (B, C, H, W)."""
        stride = self.backbone.patch_embed.projection.stride
        return images.shape[-2] // stride[0], images.shape[-1] // stride[1]
