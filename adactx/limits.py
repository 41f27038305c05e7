"""Input size limits: what adactx refuses up front, with one line, instead of running for hours.

    limits = input_limits()                 # the defaults below, or $ADACTX_MAX_DOCUMENT_BYTES
    check_document_size(path, limits)       # before the file is read
    check_question_length(question, limits) # before the reader is loaded

Measured on the 2-core development box (busy): chunking 0.25 MB of meeting text with the reader's
tokenizer took 3 s and indexing its 271 chunks with MiniLM 129 s; a 100 MB file ran > 7 minutes without a
word. The defaults keep one `adactx ask` within minutes there; raise the document limit with the
environment variable when a faster machine can afford more. A question is read twice per step (before
and after the document), so it must stay far below the reader's window.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from adactx.errors import AdactxError

DOCUMENT_BYTES_ENV = "ADACTX_MAX_DOCUMENT_BYTES"


@dataclass(frozen=True)
class InputLimits:
    max_document_bytes: int = field(
        default=2_000_000, metadata={"help": f"Largest document file in bytes (${DOCUMENT_BYTES_ENV} overrides)."}
    )
    max_question_chars: int = field(default=2_000, metadata={"help": "Longest question in characters."})
    min_budget: int = field(default=64, metadata={"help": "Smallest token budget per question."})
    max_budget: int = field(default=10_000_000, metadata={"help": "Largest token budget per question."})

    def __post_init__(self) -> None:
        for name in ("max_document_bytes", "max_question_chars", "min_budget", "max_budget"):
            if int(getattr(self, name)) < 1:
                raise AdactxError(f"InputLimits.{name}: must be >= 1, got {getattr(self, name)}")


def input_limits() -> InputLimits:
    """The limits in force: the defaults, with the document size from the environment when set."""
    raw = os.environ.get(DOCUMENT_BYTES_ENV, "").strip()
    if not raw:
        return InputLimits()
    try:
        return InputLimits(max_document_bytes=int(float(raw)))
    except ValueError:
        raise AdactxError(f"${DOCUMENT_BYTES_ENV}={raw!r}: not a number of bytes") from None


def check_document_size(path: Path, limits: InputLimits | None = None, size: int | None = None) -> None:
    """``size`` (bytes) of one document read from ``path`` (a .jsonl line); default: the file's size."""
    limits = limits or input_limits()
    size = path.stat().st_size if size is None else size
    if size > limits.max_document_bytes:
        raise AdactxError(
            f"{path}: {size / 1e6:.1f} MB is over the {limits.max_document_bytes / 1e6:g} MB document limit "
            f"(indexing would take very long); split the file, or raise ${DOCUMENT_BYTES_ENV}"
        )


def check_question_length(question: str, limits: InputLimits | None = None) -> None:
    limits = limits or input_limits()
    if len(question) > limits.max_question_chars:
        raise AdactxError(
            f"question of {len(question):,} characters is over the {limits.max_question_chars:,}-character "
            "limit (it is read twice per step and must fit the reader's window): shorten it"
        )


def check_budget(budget: int, limits: InputLimits | None = None) -> None:
    limits = limits or input_limits()
    if int(budget) < limits.min_budget:
        raise AdactxError(f"budget {budget}: below the minimum of {limits.min_budget} tokens")
    if int(budget) > limits.max_budget:
        raise AdactxError(f"budget {budget}: above the maximum of {limits.max_budget:,} tokens")


LIMITS_HELP = (
    f"Limits: documents up to {InputLimits.max_document_bytes / 1e6:g} MB (${DOCUMENT_BYTES_ENV} raises it), "
    f"questions up to {InputLimits.max_question_chars:,} characters, budget "
    f"{InputLimits.min_budget} to {InputLimits.max_budget:,} tokens."
)
