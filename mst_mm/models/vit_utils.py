"""What MST needs from an mmpretrain ``VisionTransformer`` without changing it.

mmpretrain's ViT runs every block with the fused attention kernel and never returns
attention weights, and it has no [MASK] token. Both are added from outside, with
module hooks around one forward call, so the backbone stays a plain
``VisionTransformer`` whose weights export unchanged.
"""
from contextlib import contextmanager
from typing import Iterator, List

import torch
from torch import nn


def cls_attention(qkv: torch.Tensor, num_heads: int, num_extra_tokens: int = 1) -> torch.Tensor:
    """Self-attention of the [CLS] query over the patch tokens, averaged over heads.

    Computes only the first row of the attention map, one query against N keys: O(N)
    memory instead of the N x N map, on every device (the blocks themselves run the
    fused attention kernel, which never forms the map either). The logits are computed
    in float32 even under autocast, so that fp16 / bf16 training ranks the patches as
    fp32 does.

    Args:
        qkv: Output of a block's ``attn.qkv`` projection (B, 1 + N, 3 * C), [CLS] first.
        num_heads: Attention heads of the block.
        num_extra_tokens: Tokens before the patches (1 for the [CLS] token).

    Returns:
        Tensor (B, N): attention of [CLS] to each patch; the softmax runs over all
        tokens, as in DINO's attention maps.
    """
    batch_size, num_tokens, width = qkv.shape
    head_dims = width // 3 // num_heads
    qkv = qkv.view(batch_size, num_tokens, 3, num_heads, head_dims)
    q = qkv[:, 0, 0].unsqueeze(2).float()  # (B, heads, 1, d)
    k = qkv[:, :, 1].transpose(1, 2).float()  # (B, heads, 1 + N, d)
    with torch.autocast(qkv.device.type, enabled=False):
        logits = (q @ k.transpose(-2, -1)).squeeze(2) * head_dims**-0.5  # (B, heads, 1 + N)
    return logits.softmax(dim=-1)[..., num_extra_tokens:].mean(dim=1)


def last_block_cls_attention(vit: nn.Module, block_input: torch.Tensor) -> torch.Tensor:
    """``cls_attention`` of the ViT's last block from that block's input tokens.

    Recomputes the block's ``attn.qkv(ln1(x))`` (the one linear layer the [CLS] row
    needs): no hook inside the blocks, so they can run under ``torch.compile``.
    """
    block = vit.layers[-1]
    qkv = block.attn.qkv(block.ln1(block_input))
    return cls_attention(qkv, block.attn.num_heads, vit.num_extra_tokens)


@contextmanager
def also_output_last_block_input(vit: nn.Module) -> Iterator[None]:
    """Make the ViT also return the tokens entering its last block (before the final
    norm), as its second-to-last output, during the calls inside."""
    saved = vit.out_indices
    vit.out_indices = sorted(set(saved) | {len(vit.layers) - 2})
    try:
        yield
    finally:
        vit.out_indices = saved


@contextmanager
def capture_last_block_qkv(vit: nn.Module) -> Iterator[List[torch.Tensor]]:
    """Record the qkv projection of the ViT's last block during the calls inside."""
    outputs: List[torch.Tensor] = []
    handle = vit.layers[-1].attn.qkv.register_forward_hook(
        lambda module, args, output: outputs.append(output))
    try:
        yield outputs
    finally:
        handle.remove()


@contextmanager
def masked_patch_embedding(vit: nn.Module, mask: torch.Tensor, mask_token: torch.Tensor):
    """Replace the patch embeddings where ``mask`` (B, N) is True by ``mask_token``.

    Acts on the output of ``vit.patch_embed``, before the [CLS] token and the position
    embeddings are added, as BERT's [MASK] does.
    """

    def replace(module, args, output):
        tokens, grid_size = output
        weight = mask.flatten(1).unsqueeze(-1).to(tokens.dtype)
        return tokens * (1 - weight) + mask_token.to(tokens.dtype) * weight, grid_size

    handle = vit.patch_embed.register_forward_hook(replace)
    try:
        yield
    finally:
        handle.remove()
