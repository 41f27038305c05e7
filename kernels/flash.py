"""S²-Attn on flash-attn's varlen kernel (CUDA; ``pip install 'adactx[gpu]'``).

    from adactx.kernels.flash import s2_attention_flash
    out = s2_attention_flash(q, k, v)        # (B, H, T, D) fp16/bf16 CUDA tensors -> (B, H, T, D)

Every group of every batch row becomes one "sequence" of a varlen batch: ``cu_seqlens`` lists the
group boundaries of :func:`adactx.kernels.s2groups.group_bounds`, offset by ``b·T`` per row. The two
head sets (unshifted, shifted) have different boundaries and run as two calls. This is what
LongLoRA's own flash-attn training kernel does, without the roll (the boundaries do the shifting).
Checked against the reference in ``tests/kernels/test_flash.py`` when CUDA and flash-attn exist.
"""

from __future__ import annotations

from itertools import pairwise

import torch
from adactx.kernels.s2groups import GROUP_SIZE_RATIO, head_groups, kv_for_heads

from adactx.errors import AdactxError
from adactx.optional import HAS_FLASH_ATTN, install_hint


def _cu_seqlens(bounds: list[int], bsz: int, seq_len: int, device) -> tuple[torch.Tensor, int]:
    """Cumulative boundaries over the flattened (B·T) tokens, int32, and the longest segment."""
    base = torch.tensor(bounds[:-1], dtype=torch.int32, device=device)
    starts = (base[None, :] + seq_len * torch.arange(bsz, dtype=torch.int32, device=device)[:, None]).reshape(-1)
    end = torch.tensor([bsz * seq_len], dtype=torch.int32, device=device)
    longest = max(b - a for a, b in pairwise(bounds))
    return torch.cat([starts, end]), longest


def s2_attention_flash(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    ratio: float = GROUP_SIZE_RATIO,
    scaling: float | None = None,
) -> torch.Tensor:
    """S²-Attn through ``flash_attn_varlen_func``; same contract as the reference."""
    if not HAS_FLASH_ATTN:
        raise AdactxError(f"the flash S²-Attn path needs flash-attn: {install_hint('flash_attn')}")
    from flash_attn import flash_attn_varlen_func

    bsz, n_heads, seq_len, head_dim = query.shape
    outputs = []
    for heads, bounds in head_groups(seq_len, n_heads, ratio):
        if len(heads) == 0:
            continue
        cu, longest = _cu_seqlens(bounds, bsz, seq_len, query.device)

        def flat(x: torch.Tensor) -> torch.Tensor:  # (B, h, T, D) -> (B·T, h, D)
            return x.transpose(1, 2).reshape(bsz * seq_len, x.shape[1], head_dim)

        q = flat(query[:, heads.start : heads.stop])
        k = flat(kv_for_heads(key, heads, n_heads))
        v = flat(kv_for_heads(value, heads, n_heads))
        o = flash_attn_varlen_func(
            q, k, v, cu, cu, longest, longest, dropout_p=0.0, softmax_scale=scaling, causal=True
        )
        outputs.append(o.reshape(bsz, seq_len, len(heads), head_dim).transpose(1, 2))
    return torch.cat(outputs, dim=1)  # (B, H, T, D)
