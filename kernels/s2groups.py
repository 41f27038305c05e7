"""S²-Attn's grouping: which tokens attend together, per head set; shared by every attention path.

    head_groups(T, H)         # head_shifts, or LongLoRA's SFT rule after set_sft_group_size(G)
    head_shifts(T, H)         # [(heads 0..H/2, bounds), (heads H/2..H, bounds shifted by G/2)]
    group_bounds(T, G, s)     # segment boundaries of one head set
    kv_for_heads(k, heads, H) # the key/value heads those query heads read (grouped-query attention)

Used by the reference and SDPA paths (``adactx.kernels.s2attn``) and the flash-attn path
(``adactx.kernels.flash``), so the rule is the same in every path; see ``s2attn``'s docstring for it.
"""

from __future__ import annotations

import torch

GROUP_SIZE_RATIO = 0.25
SFT_GROUP_SIZE = 8192  # LongLoRA's SFT kernel (llama_attn_replace_sft.py: sft_group_size)
_sft = {"group_size": None}  # None: the pre-training rule; an int: the SFT rule with that fixed size


def group_size(seq_len: int, ratio: float = GROUP_SIZE_RATIO) -> int:
    """G = floor(T·ratio), at least 1."""
    return max(1, int(seq_len * ratio))


def group_bounds(seq_len: int, size: int, shift: int) -> list[int]:
    """Segment boundaries (original positions) for one head set.

    Roll the sequence by ``-shift``, cut it into consecutive groups of ``size``, and split any group
    that contains the wrap point there. ``shift=0``: ``[0, G, 2G, ..., T]``; ``shift=G/2``:
    ``[0, s, s+G, ..., T-s, T]`` when G divides T.
    """
    cuts = {0, seq_len}
    cuts.update((start + shift) % seq_len for start in range(0, seq_len, size))
    return sorted(cuts)


def head_shifts(seq_len: int, n_heads: int, ratio: float = GROUP_SIZE_RATIO) -> list[tuple[range, list[int]]]:
    """[(heads, bounds)] for the unshifted first half and the shifted second half of the heads."""
    size = group_size(seq_len, ratio)
    half = n_heads // 2
    return [
        (range(half), group_bounds(seq_len, size, 0)),
        (range(half, n_heads), group_bounds(seq_len, size, size // 2)),
    ]


def sft_group_size(seq_len: int, ratio: float = GROUP_SIZE_RATIO, fixed: int = SFT_GROUP_SIZE) -> int:
    """LongLoRA's SFT rule: ``T·ratio`` when T is a multiple of 4096, else the fixed group size."""
    return max(1, int(seq_len * ratio)) if seq_len % 4096 == 0 else fixed


def sft_bounds(seq_len: int, size: int, shifted: bool) -> list[int]:
    """The SFT kernel's segments: ``[0, G, 2G, .., T]``; shifted heads ``[0, G/2, 3G/2, .., T]``.

    No roll: the shifted heads' first segment is the half group ``[0, G/2)`` and the last one ends
    at T, however T relates to G. A group at least as long as T leaves one segment: full attention.
    """
    first = size // 2 if shifted else size
    return sorted({0, seq_len, *range(max(first, 1), seq_len, size)})


def set_sft_group_size(size: int | None) -> None:
    """Use LongLoRA's SFT grouping with this fixed group size (``None``: back to the pre-training rule)."""
    if size is not None and size < 2:
        raise ValueError(f"sft_group_size: must be >= 2 (or None), got {size}")
    _sft["group_size"] = size


def head_groups(seq_len: int, n_heads: int, ratio: float = GROUP_SIZE_RATIO) -> list[tuple[range, list[int]]]:
    """[(heads, bounds)] under the current rule: pre-training (:func:`head_shifts`) or SFT (fixed size)."""
    fixed = _sft["group_size"]
    if fixed is None:
        return head_shifts(seq_len, n_heads, ratio)
    size = sft_group_size(seq_len, ratio, fixed)
    half = n_heads // 2
    return [(range(half), sft_bounds(seq_len, size, False)), (range(half, n_heads), sft_bounds(seq_len, size, True))]


def kv_for_heads(x: torch.Tensor, heads: range, n_heads: int) -> torch.Tensor:
    """The key/value heads that query heads ``heads`` read (GQA): (B, len(heads), T, D)."""
    n_rep = n_heads // x.shape[1]
    if n_rep == 1:
        return x[:, heads.start : heads.stop]
    index = torch.tensor([h // n_rep for h in heads], device=x.device)
    return x.index_select(1, index)


__all__ = [
    "GROUP_SIZE_RATIO", "SFT_GROUP_SIZE", "group_bounds", "group_size", "head_groups", "head_shifts", "kv_for_heads",
    "set_sft_group_size", "sft_bounds", "sft_group_size",
]
