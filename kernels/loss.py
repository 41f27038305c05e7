"""Next-token losses computed a slice at a time, so 16k-token windows never hold full-vocab logits.

    hidden = lm.model(input_ids).last_hidden_state                          # (B, T, d)
    nll = token_nll(hidden, lm.lm_head, input_ids)                          # (B, T-1) per-token NLL
    loss = mean_nll(hidden, lm.lm_head, input_ids, checkpoint=True)         # training: logits recomputed

At T = 16384 and a 49k vocabulary the logits alone are 3.2 GB in float32; slicing keeps them to
``chunk`` rows at a time (and, with ``checkpoint``, out of the autograd graph as well).
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch.utils.checkpoint import checkpoint as _checkpoint


def _slice_nll(hidden: torch.Tensor, head: torch.nn.Module, targets: torch.Tensor) -> torch.Tensor:
    bsz, n, dim = hidden.shape
    logits = head(hidden.reshape(bsz * n, dim)).float()  # (B·n, V): a plain mm, softmax over contiguous rows
    return F.cross_entropy(logits, targets.reshape(bsz * n), reduction="none").view(bsz, n)


def token_nll(
    hidden: torch.Tensor, head: torch.nn.Module, input_ids: torch.Tensor, chunk: int = 1024, checkpoint: bool = False
) -> torch.Tensor:
    """NLL of token t+1 given positions <= t, for t in [0, T-1): shape (B, T-1)."""
    seq_len = input_ids.shape[1]
    pieces = []
    for start in range(0, seq_len - 1, chunk):
        end = min(start + chunk, seq_len - 1)
        h, y = hidden[:, start:end], input_ids[:, start + 1 : end + 1]
        if checkpoint:
            pieces.append(_checkpoint(_slice_nll, h, head, y, use_reentrant=False))
        else:
            pieces.append(_slice_nll(h, head, y))
    return torch.cat(pieces, dim=1)


def mean_nll(hidden, head, input_ids, chunk: int = 1024, checkpoint: bool = True) -> torch.Tensor:
    return token_nll(hidden, head, input_ids, chunk, checkpoint).mean()
