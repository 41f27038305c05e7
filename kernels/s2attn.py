"""S²-Attn (LongLoRA's shifted sparse attention) as a transformers attention function.

    from adactx.kernels import s2attn
    s2attn.register()                        # once per process; idempotent
    model = AutoModelForCausalLM.from_pretrained(path, attn_implementation="s2attn")
    model.train()   # S²-Attn: groups of ¼ of the sequence, half the heads shifted by half a group
    model.eval()    # full causal attention: exactly transformers' `sdpa`

How it works (Chen et al., ICLR 2024, §3.2). Training mode splits a length-T sequence into groups
of G = T·ratio tokens (ratio ¼) and runs causal attention inside each group only. Heads
``h < H//2`` use the groups [0, G), [G, 2G), ...; heads ``h >= H//2`` use the same groups shifted
by s = G/2 so that information flows between neighbouring groups.

Edge groups. The paper's pseudocode shifts by rolling the sequence by -s, which puts the last s
tokens and the first s tokens into one wrapped group; with a causal mask inside it the first s
tokens would attend to the last s (their future). Here, as in LongLoRA's flash-attn kernel, the
wrapped group is split at the wrap point: the shifted heads see the two half-groups [0, s) and
[T - s, T) separately, each causal. No token ever attends to a later one. When T is not a multiple
of G the last group is shorter (see ``adactx.kernels.s2groups.group_bounds``; the rule is the same in every path).

Paths, all with one signature ``(q, k, v, ratio, scaling) -> out`` on ``(B, H, T, D)`` tensors
(``k``/``v`` may have fewer heads: grouped-query attention):

- :func:`s2_attention_reference` -- pure torch, explicit roll, loop over heads and groups, explicit
  boolean masks, float32 softmax. The test oracle; slow.
- :func:`s2_attention_sdpa` -- contiguous runs of equal-length groups are folded into the batch and
  sent to ``scaled_dot_product_attention(is_causal=True)``; CPU or GPU.
- ``adactx.kernels.flash.s2_attention_flash`` -- flash-attn varlen (CUDA, ``pip install 'adactx[gpu]'``).

:func:`use_mode` forces a mode (``"s2"``, ``"full"``) regardless of ``module.training``, and
:func:`use_backend` forces a path; tests and the benchmark use both.
"""

from __future__ import annotations

import contextlib
import itertools
import math
from collections.abc import Iterator

import torch
import torch.nn.functional as F
from adactx.kernels.s2groups import (  # noqa: F401  (set_sft_group_size, sft_*: re-exported)
    GROUP_SIZE_RATIO,
    SFT_GROUP_SIZE,
    group_size,
    head_groups,
    head_shifts,
    kv_for_heads,
    set_sft_group_size,
    sft_bounds,
    sft_group_size,
)

from adactx.optional import HAS_FLASH_ATTN

NAME = "s2attn"
MODES = ("auto", "s2", "full")
BACKENDS = ("auto", "sdpa", "flash", "reference")

_state = {"mode": "auto", "backend": "auto", "ratio": GROUP_SIZE_RATIO}


# --- grouping (adactx.kernels.s2groups) ----------------------------------------------------------
def _runs(bounds: list[int]) -> Iterator[tuple[int, int, int]]:
    """Contiguous runs of equal-length segments: (start, length, count)."""
    i = 0
    while i < len(bounds) - 1:
        length = bounds[i + 1] - bounds[i]
        j = i + 1
        while j < len(bounds) - 1 and bounds[j + 1] - bounds[j] == length:
            j += 1
        yield bounds[i], length, j - i
        i = j


# --- reference (test oracle) -----------------------------------------------------------------------
def s2_attention_reference(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    ratio: float = GROUP_SIZE_RATIO,
    scaling: float | None = None,
) -> torch.Tensor:
    """The paper's algorithm, literally: shift half the heads by rolling, attend per group, roll back.

    query (B, H, T, D); key/value (B, Hkv, T, D) with H a multiple of Hkv. Returns (B, H, T, D).
    Each group gets an explicit mask: causal in the rolled order, and no attention across the wrap
    point (rolled index < T - s vs >= T - s), which is what keeps the edge groups leak-free.
    """
    bsz, n_heads, seq_len, head_dim = query.shape
    n_rep = n_heads // key.shape[1]
    scaling = head_dim**-0.5 if scaling is None else scaling
    size = group_size(seq_len, ratio)
    acc = torch.promote_types(query.dtype, torch.float32)  # float32 math, float64 stays float64
    out = torch.zeros(bsz, n_heads, seq_len, head_dim, dtype=acc, device=query.device)
    for h in range(n_heads):
        shift = size // 2 if h >= n_heads // 2 else 0
        q = query[:, h].to(acc).roll(-shift, dims=1)  # (B, T, D), rolled
        k = key[:, h // n_rep].to(acc).roll(-shift, dims=1)
        v = value[:, h // n_rep].to(acc).roll(-shift, dims=1)
        wrapped = torch.arange(seq_len, device=query.device) >= seq_len - shift  # came from the front
        o = torch.zeros_like(q)
        for start in range(0, seq_len, size):
            end = min(start + size, seq_len)
            n = end - start
            causal = torch.ones(n, n, dtype=torch.bool, device=query.device).tril()
            same_side = wrapped[start:end, None] == wrapped[None, start:end]
            mask = causal & same_side
            scores = q[:, start:end] @ k[:, start:end].transpose(-1, -2) * scaling  # (B, n, n)
            scores = scores.masked_fill(~mask, -math.inf)
            o[:, start:end] = torch.softmax(scores, dim=-1) @ v[:, start:end]
        out[:, h] = o.roll(shift, dims=1)
    return out.to(query.dtype)


def full_attention_reference(
    query: torch.Tensor, key: torch.Tensor, value: torch.Tensor, scaling: float | None = None
) -> torch.Tensor:
    """Plain causal attention over the whole sequence (float32), for eval-mode tests."""
    n_rep = query.shape[1] // key.shape[1]
    acc = torch.promote_types(query.dtype, torch.float32)
    k = key.to(acc).repeat_interleave(n_rep, dim=1)
    v = value.to(acc).repeat_interleave(n_rep, dim=1)
    scaling = query.shape[-1] ** -0.5 if scaling is None else scaling
    seq_len = query.shape[2]
    scores = query.to(acc) @ k.transpose(-1, -2) * scaling
    mask = torch.ones(seq_len, seq_len, dtype=torch.bool, device=query.device).tril()
    return (torch.softmax(scores.masked_fill(~mask, -math.inf), dim=-1) @ v).to(query.dtype)


def sft_cu_seqlens_reference(seq_len: int, ratio: float = GROUP_SIZE_RATIO, fixed: int = SFT_GROUP_SIZE):
    """LongLoRA's SFT flash kernel's ``cu_q_lens`` for one unpadded sequence, op for op (batch of 1).

    Returns (unshifted, shifted) boundary lists. Written from the upstream tensor code, independently
    of :func:`sft_bounds`, so the test can compare the two.
    """
    size = int(seq_len * ratio) if seq_len % 4096 == 0 else fixed
    cu_q_lens = torch.tensor([0, seq_len, 2 * seq_len])  # two rows: unshifted heads, shifted heads
    tmp = torch.arange(0, seq_len, size)
    tmp2 = tmp + size // 2
    tmp2[tmp2 >= seq_len] = torch.iinfo(tmp2.dtype).min
    tmp = torch.stack([tmp, tmp2]) + cu_q_lens[:-1].unsqueeze(-1)
    cu = torch.cat([tmp, cu_q_lens[1:].unsqueeze(-1)], dim=-1).view(-1)
    cu = cu[cu >= 0].tolist()
    rows = ([c for c in cu if c <= seq_len], [c - seq_len for c in cu if c >= seq_len])
    return tuple(sorted(set(r)) for r in rows)


def s2_attention_sft_reference(query, key, value, ratio=GROUP_SIZE_RATIO, scaling=None, fixed=SFT_GROUP_SIZE):
    """S²-Attn with the SFT kernel's segments: explicit loop over heads and segments, float32+ softmax."""
    bsz, n_heads, seq_len, head_dim = query.shape
    n_rep = n_heads // key.shape[1]
    scaling = head_dim**-0.5 if scaling is None else scaling
    acc = torch.promote_types(query.dtype, torch.float32)
    out = torch.zeros(bsz, n_heads, seq_len, head_dim, dtype=acc, device=query.device)
    rows = sft_cu_seqlens_reference(seq_len, ratio, fixed)
    for h in range(n_heads):
        cuts = rows[1] if h >= n_heads // 2 else rows[0]
        for start, end in itertools.pairwise(cuts):
            q = query[:, h, start:end].to(acc)
            k = key[:, h // n_rep, start:end].to(acc)
            v = value[:, h // n_rep, start:end].to(acc)
            mask = torch.ones(end - start, end - start, dtype=torch.bool, device=query.device).tril()
            scores = (q @ k.transpose(-1, -2) * scaling).masked_fill(~mask, -math.inf)
            out[:, h, start:end] = torch.softmax(scores, dim=-1) @ v
    return out.to(query.dtype)


# --- SDPA fast path --------------------------------------------------------------------------------
def _grouped_causal_sdpa(q, k, v, bounds: list[int], scaling: float | None) -> torch.Tensor:
    """Causal attention inside each segment of ``bounds``; q/k/v (B, h, T, D) with equal heads."""
    bsz, heads, _, head_dim = q.shape
    pieces = []
    for start, length, count in _runs(bounds):
        q_g, k_g, v_g = (_fold(x, start, length, count) for x in (q, k, v))
        o = F.scaled_dot_product_attention(q_g, k_g, v_g, is_causal=True, scale=scaling)
        o = o.reshape(bsz, count, heads, length, head_dim).transpose(1, 2)  # (B, h, m, L, D)
        pieces.append(o.reshape(bsz, heads, length * count, head_dim))
    return torch.cat(pieces, dim=2)


def _fold(x: torch.Tensor, start: int, length: int, count: int) -> torch.Tensor:
    """``count`` consecutive groups of ``length`` from ``start`` into the batch: (B, h, ., D) -> (B·m, h, L, D)."""
    bsz, heads, _, head_dim = x.shape
    x = x[:, :, start : start + length * count].reshape(bsz, heads, count, length, head_dim)
    return x.transpose(1, 2).reshape(bsz * count, heads, length, head_dim)


def s2_attention_sdpa(
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    ratio: float = GROUP_SIZE_RATIO,
    scaling: float | None = None,
) -> torch.Tensor:
    """S²-Attn with torch SDPA: same contract as :func:`s2_attention_reference`."""
    n_heads, seq_len = query.shape[1], query.shape[2]
    outputs = []
    for heads, bounds in head_groups(seq_len, n_heads, ratio):
        if len(heads) == 0:
            continue
        q = query[:, heads.start : heads.stop]
        k = kv_for_heads(key, heads, n_heads)
        v = kv_for_heads(value, heads, n_heads)
        outputs.append(_grouped_causal_sdpa(q, k, v, bounds, scaling))
    return torch.cat(outputs, dim=1)  # (B, H, T, D)


# --- the transformers attention function ------------------------------------------------------------
@contextlib.contextmanager
def _override(setting: str, value: str, allowed: tuple[str, ...]) -> Iterator[None]:
    if value not in allowed:
        raise ValueError(f"s2attn {setting}: {value!r} is not one of {allowed}")
    previous = _state[setting]
    _state[setting] = value
    try:
        yield
    finally:
        _state[setting] = previous


def use_mode(mode: str) -> contextlib.AbstractContextManager[None]:
    """Force ``"s2"`` or ``"full"`` attention regardless of ``module.training`` (``"auto"``: follow it)."""
    return _override("mode", mode, MODES)


def use_backend(backend: str) -> contextlib.AbstractContextManager[None]:
    """Force the S²-Attn path: ``"sdpa"``, ``"flash"``, ``"reference"`` (``"auto"``: flash on CUDA if present)."""
    return _override("backend", backend, BACKENDS)


def set_group_size_ratio(ratio: float) -> None:
    if not 0 < ratio <= 1:
        raise ValueError(f"group_size_ratio: must be in (0, 1], got {ratio}")
    _state["ratio"] = ratio


def _pick_backend(query: torch.Tensor) -> str:
    backend = _state["backend"]
    if backend == "auto":
        fast = query.is_cuda and HAS_FLASH_ATTN and query.dtype in (torch.float16, torch.bfloat16)
        return "flash" if fast else "sdpa"
    return backend


def s2_attention(query, key, value, ratio: float | None = None, scaling: float | None = None) -> torch.Tensor:
    """Dispatch to the selected path. (B, H, T, D) in and out."""
    ratio = _state["ratio"] if ratio is None else ratio
    backend = _pick_backend(query)
    if backend == "flash":
        from adactx.kernels.flash import s2_attention_flash

        return s2_attention_flash(query, key, value, ratio, scaling)
    if backend == "reference":
        return s2_attention_reference(query, key, value, ratio, scaling)
    return s2_attention_sdpa(query, key, value, ratio, scaling)


def s2attn_forward(
    module: torch.nn.Module,
    query: torch.Tensor,
    key: torch.Tensor,
    value: torch.Tensor,
    attention_mask: torch.Tensor | None,
    dropout: float = 0.0,
    scaling: float | None = None,
    **kwargs,
) -> tuple[torch.Tensor, None]:
    """``AttentionInterface`` entry: S²-Attn while training, transformers' SDPA attention otherwise.

    Returns (B, T, H, D) like every transformers attention function.
    """
    from transformers.integrations.sdpa_attention import sdpa_attention_forward

    mode = _state["mode"]
    sparse = mode == "s2" or (mode == "auto" and module.training)
    if not sparse:
        return sdpa_attention_forward(module, query, key, value, attention_mask, dropout, scaling, **kwargs)
    if query.shape[2] != key.shape[2]:
        raise ValueError("s2attn: S²-Attn needs the whole sequence at once (no KV cache); use eval mode to decode")
    if attention_mask is not None:
        raise ValueError(
            "s2attn: S²-Attn trains on packed, unpadded sequences; got a padding/custom attention mask"
        )
    out = s2_attention(query, key, value, scaling=scaling)  # (B, H, T, D)
    return out.transpose(1, 2).contiguous(), None


def s2attn_mask(*args, **kwargs):
    """``AttentionMaskInterface`` entry: the SDPA mask (``None`` for plain causal batches).

    Eval mode hands it to SDPA unchanged (padding, KV cache); training mode accepts only ``None``.
    """
    from transformers.masking_utils import sdpa_mask

    return sdpa_mask(*args, **kwargs)


def register() -> None:
    """Make ``attn_implementation="s2attn"`` available to every transformers model. Idempotent."""
    from transformers import AttentionInterface
    from transformers.masking_utils import AttentionMaskInterface

    AttentionInterface.register(NAME, s2attn_forward)
    AttentionMaskInterface.register(NAME, s2attn_mask)
