"""Answer lengths from the data: how many tokens a query-focused summary may have.

ROUGE against a 236-word reference is recall-capped when the answer may have only 32 tokens, so a cap
below the references' length measures truncation, not context. The cap is set from the data instead:
a quantile (the median by default) of the reference lengths of the set's *train* split, counted in the
reader's tokens, so the split that is reported never sets its own knob.

    length = summary_length("qmsum:val", tokenizer)     # AnswerLength(tokens=..., source="qmsum:train", ...)
    length.tokens                                        # the median train reference, in reader tokens
    answer_length(examples, tokenizer, quantile=0.5)     # the same number from examples you already hold
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass

import numpy as np

from adactx.errors import AdactxError
from adactx.types import Example

SUMMARY_TASKS = ("query_summary", "summary")
LENGTH_SPLIT = "train"


@dataclass(frozen=True)
class AnswerLength:
    """A measured answer cap and where it came from (recorded in a run's config)."""

    tokens: int
    source: str  # the spec the references came from, e.g. "qmsum:train"
    quantile: float
    n_references: int
    median_words: float

    def to_dict(self) -> dict:
        return asdict(self)

    def describe(self) -> str:
        return (
            f"{self.tokens} tokens = q{self.quantile:g} of {self.n_references} {self.source} reference lengths "
            f"in reader tokens (median {self.median_words:g} words)"
        )


def reference_lengths(examples: list[Example], tokenizer) -> list[int]:
    """Length in ``tokenizer`` tokens of every reference of every summary example."""
    texts = [r for e in examples if e.task in SUMMARY_TASKS for r in e.references if r.strip()]
    if not texts:
        return []
    ids = tokenizer(texts, add_special_tokens=False)["input_ids"]
    return [len(x) for x in ids]


def answer_length(examples: list[Example], tokenizer, quantile: float = 0.5) -> int:
    """The ``quantile`` of the reference lengths (rounded up), in ``tokenizer`` tokens."""
    if not 0.0 < quantile <= 1.0:
        raise AdactxError(f"answer length: quantile must be in (0, 1], got {quantile}")
    lengths = reference_lengths(examples, tokenizer)
    if not lengths:
        raise AdactxError("answer length: no summary references to measure")
    return max(1, math.ceil(float(np.quantile(lengths, quantile))))


def summary_length(spec: str, tokenizer, quantile: float = 0.5) -> AnswerLength | None:
    """The summary cap for data set ``spec`` from its train split; None when the set has no summaries."""
    from adactx.data.registry import load, parse_spec

    dataset, _split = parse_spec(spec)
    if dataset.task not in SUMMARY_TASKS:
        return None
    if LENGTH_SPLIT not in dataset.splits:
        raise AdactxError(
            f"{dataset.name}: no {LENGTH_SPLIT} split to measure summary lengths on; "
            "pass the summary length explicitly (--summary-tokens N)"
        )
    source = f"{dataset.name}:{LENGTH_SPLIT}"
    examples = load(source, tokenizer=tokenizer) if dataset.generated else load(source)
    words = [len(r.split()) for e in examples if e.task in SUMMARY_TASKS for r in e.references if r.strip()]
    return AnswerLength(
        tokens=answer_length(examples, tokenizer, quantile),
        source=source,
        quantile=quantile,
        n_references=len(words),
        median_words=float(np.median(words)),
    )


__all__ = ["AnswerLength", "answer_length", "reference_lengths", "summary_length"]
