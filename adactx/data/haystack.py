"""Real-text haystacks for synthetic facts: source texts, token-exact cuts, insertion at depths.

    texts = haystack_texts("pg", "test")                  # [(doc_id, text)], split-disjoint
    hay = cut_to_tokens(text, 2000, tokenizer)            # a prefix of <= 2000 tokens, ending a sentence
    text, spans = insert_sentences(hay, [(0.3, "Fact A."), (0.8, "Fact B.")])

Sources: ``pg`` (Paul Graham essays), ``qmsum`` (meeting transcripts, "speaker: content" lines)
and ``squality`` (Gutenberg stories); documents are concatenated in a seeded order until long enough. Each source is
split into disjoint train / val / test parts so generated sets do not share haystack text.
Sentences are inserted at the sentence boundary at or before the requested depth (Kamradt's rule:
back up to the previous period), so a fact never cuts a sentence of the haystack in two.
"""

from __future__ import annotations

import random
import re
from functools import cache

from adactx.data.paths import data_file
from adactx.errors import AdactxError
from adactx.types import Span

SOURCES = ("pg", "qmsum", "squality")
_BOUNDARY = re.compile(r"(?<=[.!?])[\"')\]]*\s+|\n+")
_SQUALITY_SPLIT = {"train": "train", "val": "dev", "test": "test"}


@cache
def pg_essays() -> tuple[tuple[str, str], ...]:
    """``(essay name, text)`` of the Paul Graham essays, sorted by name (the license file excluded)."""
    folder = data_file("pg_essays")
    files = sorted(p for p in folder.glob("*.txt") if p.stem.upper() != "LICENSE")
    return tuple((p.stem, p.read_text(encoding="utf-8")) for p in files)


def _pg_part(split: str) -> list[tuple[str, str]]:
    """Every 5th essay (by name) is test, every 5th after it val, the rest train."""
    essays = pg_essays()
    pick = {"test": lambda i: i % 5 == 0, "val": lambda i: i % 5 == 1, "train": lambda i: i % 5 > 1}[split]
    return [essay for i, essay in enumerate(essays) if pick(i)]


@cache
def haystack_texts(source: str, split: str) -> tuple[tuple[str, str], ...]:
    """``(doc_id, text)`` haystack documents of one source for one split."""
    if split not in ("train", "val", "test"):
        raise AdactxError(f"haystack: unknown split {split!r}; choose from train, val, test")
    if source == "pg":
        return tuple((f"pg-{name}", text) for name, text in _pg_part(split))
    if source == "qmsum":
        from adactx.data.qmsum import load_qmsum

        docs = {e.document.doc_id: e.document.text for e in load_qmsum(split)}
        return tuple(docs.items())
    if source == "squality":
        from adactx.data.squality import load_squality

        docs = {e.document.doc_id: e.document.text for e in load_squality(_SQUALITY_SPLIT[split])}
        return tuple(docs.items())
    raise AdactxError(f"haystack: unknown source {source!r}; choose from {', '.join(SOURCES)}")


def source_text(source: str, split: str, rng: random.Random, min_chars: int) -> tuple[str, str]:
    """A haystack of at least ``min_chars`` (when the split has that much): a random document, entered
    at a random sentence when it is longer than needed, then further documents in a random order
    (Kamradt concatenates essays the same way). Returns ``(ids joined by "+", text)``."""
    docs = list(haystack_texts(source, split))
    rng.shuffle(docs)
    first_id, first = docs[0]
    if len(first) > min_chars:
        starts = [m.end() for m in _BOUNDARY.finditer(first, 0, len(first) - min_chars)]
        first = first[rng.choice(starts) if starts else 0 :]
    ids, parts, total = [first_id], [first], len(first)
    for doc_id, text in docs[1:]:
        if total >= min_chars:
            break
        ids.append(doc_id)
        parts.append(text)
        total += len(text) + 2
    return "+".join(ids), "\n\n".join(parts)


def cut_to_tokens(text: str, n_tokens: int, tokenizer) -> str:
    """The longest prefix of ``text`` with at most ``n_tokens`` tokens that ends at a sentence end."""
    enc = tokenizer(text, return_offsets_mapping=True, add_special_tokens=False)
    offsets = enc["offset_mapping"]
    if len(offsets) <= n_tokens:
        return text.rstrip()
    limit = offsets[n_tokens - 1][1] if n_tokens > 0 else 0
    ends = [m.start() for m in _BOUNDARY.finditer(text, 0, limit + 1)]
    cut = max((e for e in ends if e <= limit), default=limit)
    if cut < limit // 2:  # no sentence end in sight (tables, code): cut at the token
        cut = limit
    return text[:cut].rstrip()


def count_tokens(tokenizer, text: str) -> int:
    return len(tokenizer(text, add_special_tokens=False)["input_ids"])


def boundary_before(text: str, position: int) -> int:
    """The start of the sentence containing ``position`` (0 when it is in the first sentence)."""
    starts = [m.end() for m in _BOUNDARY.finditer(text, 0, max(position, 0))]
    return starts[-1] if starts else 0


def insert_sentences(text: str, placed: list[tuple[float, str]]) -> tuple[str, list[Span]]:
    """Insert each ``(depth, sentence)`` at the sentence boundary at or before ``depth * len(text)``.

    Returns the new text and one ``Span`` per inserted sentence, in the order given.
    """
    cuts = sorted(
        (boundary_before(text, round(depth * len(text))) if depth < 1.0 else len(text), i)
        for i, (depth, _) in enumerate(placed)
    )
    out, cursor, spans = "", 0, [None] * len(placed)
    for cut, i in cuts:
        out += text[cursor:cut]
        if out and not out[-1].isspace():
            out += " "
        sentence = placed[i][1]
        spans[i] = Span(0, len(out), len(out) + len(sentence))
        out += sentence + ("\n" if out.endswith("\n") else " ")
        cursor = cut
    return (out + text[cursor:]).rstrip(), spans
