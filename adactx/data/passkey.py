"""Passkey retrieval exactly as LongLoRA evaluates it (``passkey_retrivial.py``).

LongLoRA builds one prompt per (length, seed)::

    <task description>\\n<filler prefix>\\n<key line>\\n<filler suffix>\\n<final question>

with the filler "The grass is green. ... There and back again." repeated and cut at a character count,
the key drawn with numpy's legacy RNG (``random.seed(seed); randint(0, n_garbage); randint(1, 50000)``)
and the suffix taken from the *start* of the repeated filler, as in the original. Here the filler +
key text is the ``Document``, the final question is ``Example.query`` and the task description sits in
``meta["task_description"]``; ``passkey_prompt(example)`` rebuilds LongLoRA's exact prompt string.

    ex = passkey_example(4000, tokenizer, seed=0)            # ~4000 reader tokens, random depth
    ex = passkey_example(4000, tokenizer, seed=0, depth=0.5)  # key half-way through the filler
    passkey_prompt(ex)                                        # the prompt LongLoRA feeds the model
    passkey_suite(PasskeyConfig(lengths=(1000, 2000)), tokenizer, n=20, seed=0)  # lengths x seeds

``n_tokens`` counts tokens of the whole prompt (LongLoRA's ``len_token``): the filler length is the
largest one whose prompt fits in ``n_tokens``. The same seed gives the same key at every depth.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from adactx.types import Document, Example, Span

TASK_DESCRIPTION = (
    "There is an important info hidden inside a lot of irrelevant text. "
    "Find it and memorize them. I will quiz you about the important information there."
)
FILLER = "The grass is green. The sky is blue. The sun is yellow. Here we go. There and back again."
FINAL_QUESTION = "What is the pass key? The pass key is"
FILLER_REPEATS = 5000  # LongLoRA: " ".join([garbage] * 5000)
_FILLER_INF = " ".join([FILLER] * FILLER_REPEATS)


def key_line(pass_key: int) -> str:
    return f"The pass key is {pass_key}. Remember it. {pass_key} is the pass key."


def draw_prefix_and_key(n_garbage: int, seed: int) -> tuple[int, int]:
    """LongLoRA's two draws, in order: the prefix length in [0, n_garbage) and the key in [1, 50000)."""
    rng = np.random.RandomState(seed)  # same stream as `numpy.random.seed(seed)` + module functions
    n_prefix = int(rng.randint(0, n_garbage))
    pass_key = int(rng.randint(1, 50000))
    return n_prefix, pass_key


def passkey_document_text(n_garbage: int, seed: int, depth: float | None = None) -> tuple[str, int, Span]:
    """Filler prefix + key line + filler suffix (LongLoRA's middle three lines).

    Returns ``(text, pass_key, key_span)``; ``depth`` in [0, 1] overrides the random prefix length.
    """
    if not 1 <= n_garbage <= len(_FILLER_INF):
        raise ValueError(f"n_garbage: need 1..{len(_FILLER_INF)} characters, got {n_garbage}")
    n_prefix, pass_key = draw_prefix_and_key(n_garbage, seed)
    if depth is not None:
        n_prefix = round(depth * n_garbage)
    prefix = _FILLER_INF[:n_prefix]
    suffix = _FILLER_INF[: n_garbage - n_prefix]
    line = key_line(pass_key)
    start = len(prefix) + 1
    text = f"{prefix}\n{line}\n{suffix}"
    return text, pass_key, Span(0, start, start + len(line))


def _prompt(document_text: str) -> str:
    return f"{TASK_DESCRIPTION}\n{document_text}\n{FINAL_QUESTION}"


def passkey_prompt(example: Example) -> str:
    """LongLoRA's exact prompt for a passkey example: description, filler with key, final question."""
    return "\n".join(
        [example.meta.get("task_description", TASK_DESCRIPTION), example.document.text, example.query]
    )


def count_tokens(tokenizer, text: str) -> int:
    return len(tokenizer(text)["input_ids"])


def fit_filler_chars(n_tokens: int, tokenizer, seed: int, depth: float | None = None) -> int:
    """Largest filler length (characters) whose full prompt has at most ``n_tokens`` tokens.

    Binary search; the prompt's token count grows with the filler (up to a token of jitter where the
    prefix cut lands), so the result is within a few tokens of ``n_tokens``.
    """

    def prompt_tokens(n_garbage: int) -> int:
        return count_tokens(tokenizer, _prompt(passkey_document_text(n_garbage, seed, depth)[0]))

    lo, top = 1, len(_FILLER_INF)
    if prompt_tokens(lo) > n_tokens:
        raise ValueError(
            f"n_tokens: {n_tokens} is too short for the passkey prompt ({prompt_tokens(lo)} tokens)"
        )
    hi = min(4 * n_tokens, top)  # grow until the prompt is too long (a token spans >= 1 character)
    while prompt_tokens(hi) <= n_tokens:
        if hi == top:
            return top
        lo, hi = hi, min(2 * hi, top)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if prompt_tokens(mid) <= n_tokens:
            lo = mid
        else:
            hi = mid
    return lo


def passkey_example(n_tokens: int, tokenizer, seed: int, depth: float | None = None) -> Example:
    """One LongLoRA passkey example whose full prompt is ~``n_tokens`` ``tokenizer`` tokens.

    ``references=[str(key)]``, ``evidence`` = the key line, ``task="passkey"``; ``meta`` records the
    depth actually used (prefix characters / filler characters), the key and both token counts.
    """
    if depth is not None and not 0.0 <= depth <= 1.0:
        raise ValueError(f"depth: need a fraction in [0, 1], got {depth}")
    n_garbage = fit_filler_chars(n_tokens, tokenizer, seed, depth)
    text, pass_key, span = passkey_document_text(n_garbage, seed, depth)
    n_prefix = span.start - 1
    depth_tag = "rand" if depth is None else f"{depth:g}"
    return Example(
        example_id=f"passkey-{n_tokens}-d{depth_tag}-s{seed}",
        task="passkey",
        documents=[Document(doc_id=f"passkey-filler-{n_garbage}-s{seed}", text=text, source="passkey")],
        query=FINAL_QUESTION,
        references=[str(pass_key)],
        evidence=[span],
        source="passkey",
        meta={
            "depth": n_prefix / n_garbage,
            "depth_requested": depth,
            "key": pass_key,
            "n_tokens": n_tokens,
            "prompt_tokens": count_tokens(tokenizer, _prompt(text)),
            "n_garbage": n_garbage,
            "seed": seed,
            "task_description": TASK_DESCRIPTION,
        },
    )


@dataclass
class PasskeyConfig:
    """A passkey suite: every length, each with consecutive seeds (LongLoRA: ``num_tests`` per length)."""

    lengths: tuple[int, ...] = field(
        default=(1000, 2000, 4000), metadata={"help": "prompt lengths in reader tokens"}
    )
    depths: tuple[float, ...] | None = field(
        default=None, metadata={"help": "key depths in [0, 1]; None draws them as LongLoRA does"}
    )
    tests_per_length: int = field(
        default=10, metadata={"help": "examples per length (and depth) when n is None"}
    )

    def __post_init__(self) -> None:
        if not self.lengths or min(self.lengths) < 64:
            raise ValueError(f"PasskeyConfig.lengths: need lengths >= 64 tokens, got {self.lengths}")
        if self.depths is not None and not all(0.0 <= d <= 1.0 for d in self.depths):
            raise ValueError(f"PasskeyConfig.depths: need fractions in [0, 1], got {self.depths}")
        if self.tests_per_length < 1:
            raise ValueError(f"PasskeyConfig.tests_per_length: need >= 1, got {self.tests_per_length}")


def passkey_suite(config: PasskeyConfig, tokenizer, n: int | None = None, seed: int = 0) -> list[Example]:
    """``n`` examples cycling over (length, depth) cells; example ``i`` of a cell uses seed ``seed + i``."""
    depths = config.depths or (None,)
    cells = [(length, depth) for length in config.lengths for depth in depths]
    n = len(cells) * config.tests_per_length if n is None else n
    return [
        passkey_example(cells[i % len(cells)][0], tokenizer, seed + i // len(cells), cells[i % len(cells)][1])
        for i in range(n)
    ]
