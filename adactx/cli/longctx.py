"""`adactx eval perplexity` and `adactx eval passkey`: long-context reader evaluations (LongLoRA's)."""

from __future__ import annotations


def perplexity() -> None:
    """Sliding-window perplexity at several lengths."""
    raise NotImplementedError


def passkey() -> None:
    """Passkey retrieval accuracy at several lengths (LongLoRA's protocol)."""
    raise NotImplementedError
