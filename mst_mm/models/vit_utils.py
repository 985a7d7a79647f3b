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


def cls_attention(layer: nn.Module, x: torch.Tensor, num_extra_tokens: int = 1) -> torch.Tensor:
    """Self-attention of the [CLS] query over the patch tokens, averaged over heads.

    Computes only the first row of the attention map of a ``TransformerEncoderLayer``:
    one query against N keys, O(N) memory instead of the N x N map.

    Args:
        layer: An mmpretrain ``TransformerEncoderLayer`` (``ln1`` then ``attn``).
        x: The layer's input tokens (B, 1 + N, C), [CLS] first.
        num_extra_tokens: Tokens before the patches (1 for the [CLS] token).

    Returns:
        Tensor (B, N): attention of [CLS] to each patch; the softmax runs over all
        tokens, as in DINO's attention maps.
    """
    attn = layer.attn
    batch_size, num_tokens, _ = x.shape
    heads, head_dims = attn.num_heads, attn.head_dims
    qkv_weight = attn.qkv.weight.view(3, heads * head_dims, -1)
    qkv_bias = (attn.qkv.bias.view(3, heads * head_dims)
                if attn.qkv.bias is not None else torch.zeros(3, heads * head_dims,
                                                               device=x.device, dtype=x.dtype))
    tokens = layer.ln1(x)
    q = nn.functional.linear(tokens[:, :1], qkv_weight[0], qkv_bias[0])  # (B, 1, C)
    k = nn.functional.linear(tokens, qkv_weight[1], qkv_bias[1])  # (B, 1+N, C)
    q = q.view(batch_size, 1, heads, head_dims).transpose(1, 2)
    k = k.view(batch_size, num_tokens, heads, head_dims).transpose(1, 2)
    logits = (q @ k.transpose(-2, -1)).squeeze(2) * head_dims**-0.5  # (B, heads, 1+N)
    return logits.softmax(dim=-1)[..., num_extra_tokens:].mean(dim=1)


@contextmanager
def capture_last_block_input(vit: nn.Module) -> Iterator[List[torch.Tensor]]:
    """Record the input of the ViT's last block during the forward calls inside."""
    inputs: List[torch.Tensor] = []
    handle = vit.layers[-1].register_forward_pre_hook(
        lambda module, args: inputs.append(args[0]))
    try:
        yield inputs
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
