"""Needle in a haystack over the Paul Graham essays (gkamradt/LLMTest_NeedleInAHaystack), seeded.

    ex = needle_example(2000, tokenizer, seed=0, depth=0.5)                     # a magic-number needle
    ex = needle_example(2000, tokenizer, seed=0, depth=0.5, needle="kamradt")   # the original SF needle
    exs = needle_suite(NeedleConfig(lengths=(1000, 4000), depths=(0.0, 0.5, 1.0)), tokenizer, n=12)

Kamradt's protocol: essays concatenated until long enough, cut to the context length (here: the whole
document is ``n_tokens`` reader tokens including the needle), the needle placed at ``depth`` of the
haystack after backing up to the previous sentence end; depth 1.0 puts it at the very end. Kamradt's
original needle ("The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a
sunny day.") has a long answer that a small reader cannot reproduce verbatim, so the default needle
is a seeded value: "The special magic number for {city} is {number}." with a number reference.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from adactx.data.facts import CITIES, FORMAT_HINTS
from adactx.data.haystack import count_tokens, cut_to_tokens, insert_sentences, source_text
from adactx.types import Document, Example

KAMRADT_NEEDLE = (
    "The best thing to do in San Francisco is eat a sandwich and sit in Dolores Park on a sunny day."
)
KAMRADT_QUESTION = "What is the best thing to do in San Francisco?"
KAMRADT_ANSWER = "eat a sandwich and sit in Dolores Park on a sunny day"
NEEDLES = ("magic_number", "kamradt")


def _needle(kind: str, rng: random.Random) -> tuple[str, str, list[str]]:
    """``(needle sentence, question, references)``."""
    if kind == "kamradt":
        return KAMRADT_NEEDLE, KAMRADT_QUESTION, [KAMRADT_ANSWER]
    if kind == "magic_number":
        city, number = rng.choice(CITIES), rng.randint(100_000, 999_999)
        question = f"What is the special magic number for {city}? {FORMAT_HINTS['number']}"
        return f"The special magic number for {city} is {number}.", question, [str(number)]
    raise ValueError(f"needle: unknown kind {kind!r}; choose from {', '.join(NEEDLES)}")


def needle_example(
    n_tokens: int, tokenizer, seed: int, depth: float = 0.5, needle: str = "magic_number", split: str = "test"
) -> Example:
    """One needle example: a PG-essay document of about ``n_tokens`` tokens with the needle at ``depth``."""
    if not 0.0 <= depth <= 1.0:
        raise ValueError(f"depth: need a fraction in [0, 1], got {depth}")
    rng = random.Random(f"needle:{split}:{seed}")
    sentence, question, references = _needle(needle, rng)
    haystack_id, text = source_text("pg", split, rng, min_chars=6 * n_tokens)
    haystack = cut_to_tokens(text, max(n_tokens - count_tokens(tokenizer, sentence) - 1, 50), tokenizer)
    doc_text, (span,) = insert_sentences(haystack, [(depth, sentence)])
    return Example(
        example_id=f"needle-{needle}-{n_tokens}-d{depth:g}-s{seed}",
        task="qa",
        documents=[
            Document(
                doc_id=f"needle-{split}-{seed}-{n_tokens}-d{depth:g}",
                text=doc_text,
                title=haystack_id,
                source="pg_essays",
            )
        ],
        query=question,
        references=references,
        evidence=[span],
        source="needle",
        meta={
            "needle": needle,
            "depth": depth,
            "position": round(span.start / len(doc_text), 4),
            "n_tokens": n_tokens,
            "doc_tokens": count_tokens(tokenizer, doc_text),
            "haystack": haystack_id,
            "seed": seed,
        },
    )


@dataclass
class NeedleConfig:
    """A (length x depth) grid; each cell gets consecutive seeds."""

    lengths: tuple[int, ...] = field(
        default=(1000, 2000, 4000), metadata={"help": "document lengths in tokens"}
    )
    depths: tuple[float, ...] = field(
        default=(0.0, 0.25, 0.5, 0.75, 1.0), metadata={"help": "needle depths in [0, 1]"}
    )
    needle: str = field(default="magic_number", metadata={"help": "magic_number (short answer) or kamradt"})
    tests_per_cell: int = field(default=2, metadata={"help": "examples per (length, depth) when n is None"})

    def __post_init__(self) -> None:
        if not self.lengths or min(self.lengths) < 100:
            raise ValueError(f"NeedleConfig.lengths: need lengths >= 100 tokens, got {self.lengths}")
        if not self.depths or not all(0.0 <= d <= 1.0 for d in self.depths):
            raise ValueError(f"NeedleConfig.depths: need fractions in [0, 1], got {self.depths}")
        if self.needle not in NEEDLES:
            raise ValueError(f"NeedleConfig.needle: choose from {NEEDLES}, got {self.needle!r}")
        if self.tests_per_cell < 1:
            raise ValueError(f"NeedleConfig.tests_per_cell: need >= 1, got {self.tests_per_cell}")


def needle_suite(config: NeedleConfig, tokenizer, n: int | None = None, seed: int = 0) -> list[Example]:
    """``n`` examples cycling over the (length, depth) grid; repeat ``r`` of a cell uses seed ``seed + r``."""
    cells = [(length, depth) for length in config.lengths for depth in config.depths]
    n = len(cells) * config.tests_per_cell if n is None else n
    return [
        needle_example(
            cells[i % len(cells)][0],
            tokenizer,
            seed + i // len(cells),
            cells[i % len(cells)][1],
            config.needle,
        )
        for i in range(n)
    ]
