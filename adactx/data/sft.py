"""Supervised fine-tuning data for the reader, from train splits only, in the reader's own layout.

    cfg = SFTDataConfig(sources=("mixed:train", "qmsum:train", "squality:train"), max_context_tokens=3500)
    records = build_sft_records(cfg, tokenizer, n=2000, seed=0)
    records[0].pieces      # the context as the controller appends it: ["\\n" + chunk, "\\n" + chunk, ...]

An :class:`SFTRecord` is text, not tokens: a question, the task (``qa`` or ``query_summary``), the
context pieces in the order a policy would append them, and the answer. The trainer lays it out with
the reader's own ``prompt_parts`` (``adactx.kernels.sft.layout_example``), so training sees exactly
the token ids inference sees.

Contexts look like what the controller's policies read: the document cut into ~``chunk_tokens``
chunks at sentence ends, then one of

    gold       the chunks holding the gold evidence plus distractor chunks (half ranked by word
               overlap with the question, like a retriever, half random), in document order or in
               "retrieval" order
    retrieved  the chunks with the most word overlap, whatever they hold
    prefix     the first chunks of the document
    absent     distractors only (mixed suite): the answer is :data:`NOT_IN_CONTEXT`

with a context size drawn log-uniformly from ``[min_context_tokens, max_context_tokens]``. The mixed
suite's val/test references always have an answer in the document, so :data:`NOT_IN_CONTEXT` only
teaches the reader to abstain when it is given nothing relevant (F1 0 either way, and it keeps the
no-context score from coming from memorized generator values). QMSum uses the specific queries (gold
turn spans) and the general ones (chunks spread over the meeting); SQuALITY uses every question with
one of its four references drawn per example; LongAlpaca / LongQA ``{instruction, output}`` records
come from a user's local JSON file. Every record is a pure function of (config, seed, index).
"""

from __future__ import annotations

import json
import math
import random
import re
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path

from adactx.errors import AdactxError
from adactx.types import Example

NOT_IN_CONTEXT = "The excerpts do not contain the answer."
SOURCES = ("mixed:train", "qmsum:train", "squality:train", "longalpaca")
MODES = ("gold", "retrieved", "prefix", "absent")
MIXED_LENGTHS = (1000, 2000, 4000, 6000, 8000)
_WORD = re.compile(r"[a-z0-9]+")
_STOP = frozenset(
    ["a", "an", "the", "of", "to", "in", "on", "at", "for", "and", "or", "is", "are", "was", "were", "be", "by", "with", "what", "which", "who", "how", "many", "does", "do", "did", "it", "its", "this", "that", "as", "from", "about", "their", "they", "he", "she", "his", "her", "answer", "question"]
)


@dataclass
class SFTRecord:
    """One training example as text, in the order the reader receives it."""

    task: str
    question: str
    pieces: list[str]
    answer: str
    gold: list[bool] = field(default_factory=list)  # which pieces hold gold evidence
    source: str = ""
    meta: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> SFTRecord:
        return cls(**data)


@dataclass
class SFTDataConfig:
    """Which sources, in what proportions, and how big the contexts are."""

    sources: tuple[str, ...] = field(
        default=("mixed:train", "qmsum:train", "squality:train"),
        metadata={"help": "mixed:train, qmsum:train, squality:train, longalpaca (needs longalpaca_file)"},
    )
    weights: tuple[float, ...] = field(
        default=(0.6, 0.25, 0.15), metadata={"help": "sampling weight of each source (same order)"}
    )
    min_context_tokens: int = field(default=500, metadata={"help": "smallest context, in reader tokens"})
    max_context_tokens: int = field(default=8000, metadata={"help": "largest context, in reader tokens"})
    chunk_tokens: int = field(default=256, metadata={"help": "chunk size the contexts are made of"})
    absent_fraction: float = field(
        default=0.1, metadata={"help": "share of mixed examples whose context lacks the evidence"}
    )
    longalpaca_file: str | None = field(
        default=None, metadata={"help": "local LongAlpaca / LongQA JSON list of {instruction, output}"}
    )

    def __post_init__(self) -> None:
        self.sources, self.weights = tuple(self.sources), tuple(float(w) for w in self.weights)
        unknown = [s for s in self.sources if s not in SOURCES]
        if unknown or not self.sources:
            raise AdactxError(f"sources: {unknown or '[]'} not among {', '.join(SOURCES)} (train splits only)")
        if len(self.weights) != len(self.sources) or min(self.weights) < 0 or sum(self.weights) <= 0:
            raise AdactxError(f"weights: need one weight >= 0 per source, got {self.weights}")
        if not 64 <= self.min_context_tokens <= self.max_context_tokens:
            raise AdactxError("min_context_tokens: must be >= 64 and <= max_context_tokens")
        if not 16 <= self.chunk_tokens <= self.min_context_tokens:
            raise AdactxError(f"chunk_tokens: must be in [16, min_context_tokens], got {self.chunk_tokens}")
        if not 0 <= self.absent_fraction < 1:
            raise AdactxError(f"absent_fraction: must be in [0, 1), got {self.absent_fraction}")
        if "longalpaca" in self.sources and not self.longalpaca_file:
            raise AdactxError("longalpaca_file: the longalpaca source needs a local JSON file")
        if self.longalpaca_file and not Path(self.longalpaca_file).is_file():
            raise AdactxError(f"longalpaca_file: {self.longalpaca_file} does not exist")


# --- chunks and contexts -----------------------------------------------------------------------------
def chunk_spans(text: str, tokenizer, chunk_tokens: int) -> list[tuple[int, int]]:
    """Character spans of ~``chunk_tokens``-token chunks, cut at the last sentence end or newline."""
    offsets = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)["offset_mapping"]
    spans, start, i = [], 0, 0
    while i < len(offsets):
        j = min(i + chunk_tokens, len(offsets))
        end = offsets[j - 1][1] if j == len(offsets) else offsets[j][0]
        if j < len(offsets):
            cut = max(text.rfind(". ", start, end), text.rfind("\n", start, end))
            if cut > start + (end - start) // 2:
                end = cut + 1
        spans.append((start, end))
        start = end
        while i < len(offsets) and offsets[i][0] < end:
            i += 1
    return [(s, e) for s, e in spans if text[s:e].strip()]


def _words(text: str) -> set[str]:
    return {w for w in _WORD.findall(text.lower()) if w not in _STOP}


def overlap_ranking(question: str, text: str, spans: list[tuple[int, int]]) -> list[int]:
    """Chunk indices ranked by how many question words they contain (a cheap lexical retriever)."""
    q = _words(question)
    scores = [len(q & _words(text[s:e])) for s, e in spans]
    return sorted(range(len(spans)), key=lambda i: (-scores[i], i))


def _overlaps(span: tuple[int, int], evidence) -> bool:
    return any(e.start < span[1] and span[0] < e.end for e in evidence)


@dataclass
class Chunked:
    """A document cut into chunks, with their token counts and which ones hold gold evidence."""

    text: str
    spans: list[tuple[int, int]]
    tokens: list[int]
    gold: list[int]


def chunk_example(example: Example, tokenizer, chunk_tokens: int) -> Chunked:
    text = example.document.text
    spans = chunk_spans(text, tokenizer, chunk_tokens)
    tokens = [len(tokenizer.encode("\n" + text[s:e], add_special_tokens=False)) for s, e in spans]
    evidence = [e for e in example.evidence if e.doc_index == 0]
    gold = [i for i, span in enumerate(spans) if _overlaps(span, evidence)]
    return Chunked(text, spans, tokens, gold)


def _fill(chosen: list[int], candidates: list[int], tokens: list[int], budget: int) -> list[int]:
    """Add candidates (in their order) while they fit ``budget`` tokens in total."""
    used = sum(tokens[i] for i in chosen)
    for i in candidates:
        if i not in chosen and used + tokens[i] <= budget:
            chosen.append(i)
            used += tokens[i]
    return chosen


def select_chunks(mode: str, doc: Chunked, question: str, budget: int, rng: random.Random) -> list[int]:
    """Chunk indices, in the order they are appended, for one context ``mode``."""
    n = len(doc.spans)
    ranked = overlap_ranking(question, doc.text, doc.spans)
    if mode == "prefix":
        return _fill([], list(range(n)), doc.tokens, budget)
    if mode == "retrieved":
        return _fill([], ranked, doc.tokens, budget)
    others = [i for i in range(n) if i not in doc.gold]
    shuffled = rng.sample(others, len(others))
    mixed_order = [i for pair in zip(ranked, shuffled) for i in pair]  # retrieved and random, alternating
    distractors = [i for i in dict.fromkeys(mixed_order) if i not in doc.gold]
    if mode == "absent":
        chosen = []
    else:  # the whole evidence, even past the budget (the trainer cuts distractors first)
        budget = max(budget, sum(doc.tokens[i] for i in doc.gold))
        chosen = list(doc.gold)
    chosen = _fill(chosen, distractors, doc.tokens, budget)
    if rng.random() < 0.5:
        return sorted(chosen)  # document order (extend / prefix-like reading)
    return sorted(chosen, key=ranked.index)  # retrieval order


def _context_budget(cfg: SFTDataConfig, rng: random.Random) -> int:
    lo, hi = math.log(cfg.min_context_tokens), math.log(cfg.max_context_tokens)
    return int(math.exp(rng.uniform(lo, hi)))


def _record(doc: Chunked, chosen: list[int], example: Example, answer: str, source: str, meta: dict) -> SFTRecord:
    pieces = ["\n" + doc.text[doc.spans[i][0] : doc.spans[i][1]] for i in chosen]
    gold = [i in doc.gold for i in chosen]
    meta = {"example_id": example.example_id, "context_tokens": sum(doc.tokens[i] for i in chosen), **meta}
    return SFTRecord(example.task, example.query, pieces, answer, gold, source, meta)


# --- sources -----------------------------------------------------------------------------------------
def mixed_record(cfg: SFTDataConfig, tokenizer, rng: random.Random, index: int) -> SFTRecord:
    """A generated mixed:train example (split "train": its own haystack texts and seeds)."""
    from adactx.data.haystack import SOURCES as HAYSTACKS
    from adactx.data.mixed import MULTI_KINDS, VARIANTS, mixed_example

    budget = _context_budget(cfg, rng)
    length = max(budget, rng.choice(MIXED_LENGTHS))
    example = mixed_example(
        rng.choice(VARIANTS), min(length, 8000), tokenizer, seed=index, source=rng.choice(HAYSTACKS),
        split="train", k=rng.randint(1, 8), kind=rng.choice(MULTI_KINDS),
    )
    doc = chunk_example(example, tokenizer, cfg.chunk_tokens)
    mode = "absent" if rng.random() < cfg.absent_fraction else rng.choice(("gold", "gold", "retrieved", "prefix"))
    chosen = select_chunks(mode, doc, example.query, budget, rng)
    held = set(doc.gold) & set(chosen)
    if mode != "absent" and held != set(doc.gold):  # part of the evidence missing: read all of it
        mode, chosen = "gold", select_chunks("gold", doc, example.query, budget, rng)
        held = set(doc.gold) & set(chosen)
    answer = example.references[0] if held == set(doc.gold) and held else NOT_IN_CONTEXT
    if mode != "absent" and answer == NOT_IN_CONTEXT:
        raise AdactxError(f"{example.example_id}: gold mode lost its evidence (a bug in select_chunks)")
    return _record(doc, chosen, example, answer, "mixed:train", {"mode": mode})


@cache
def _summary_examples(source: str) -> tuple[Example, ...]:
    if source == "qmsum:train":
        from adactx.data.qmsum import load_qmsum

        return tuple(load_qmsum("train"))
    from adactx.data.squality import load_squality

    return tuple(load_squality("train"))


def summary_record(source: str, cfg: SFTDataConfig, tokenizer, rng: random.Random) -> SFTRecord:
    """QMSum train (gold turns + distractors, or spread chunks for general queries) or SQuALITY train."""
    example = rng.choice(_summary_examples(source))
    doc = chunk_example(example, tokenizer, cfg.chunk_tokens)
    budget = _context_budget(cfg, rng)
    if doc.gold:
        mode = rng.choice(("gold", "gold", "retrieved"))
    else:
        mode = rng.choice(("spread", "retrieved", "prefix"))
    if mode == "spread":  # a skim of the whole document, in order
        step = max(1, round(sum(doc.tokens) / budget))
        chosen = _fill([], list(range(0, len(doc.spans), step)), doc.tokens, budget)
    else:
        chosen = select_chunks(mode, doc, example.query, budget, rng)
    answer = rng.choice(example.references)
    return _record(doc, chosen, example, answer, source, {"mode": mode})


@cache
def _longalpaca(path: str) -> tuple[dict, ...]:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise AdactxError(f"longalpaca_file: {path}: not readable JSON ({exc})") from None
    if not isinstance(data, list) or not all(isinstance(r, dict) and "instruction" in r and "output" in r for r in data):
        raise AdactxError(f"longalpaca_file: {path}: expected a JSON list of {{instruction, output}} records")
    return tuple(data)


def split_instruction(instruction: str) -> tuple[str, str]:
    """(material, question) of a LongAlpaca instruction: the question follows the material."""
    marker = "Now the material ends."
    if marker in instruction:
        material, question = instruction.rsplit(marker, 1)
        return material, question.strip()
    material, _, question = instruction.strip().rpartition("\n")
    return material, question.strip()


def longalpaca_record(cfg: SFTDataConfig, tokenizer, rng: random.Random) -> SFTRecord:
    """A LongAlpaca / LongQA record: its material chunked and cut to the budget (never the answer)."""
    from adactx.types import Document

    records = _longalpaca(cfg.longalpaca_file)
    index = rng.randrange(len(records))
    material, question = split_instruction(records[index]["instruction"])
    output = str(records[index]["output"]).strip()
    task = "query_summary" if len(output.split()) > 40 else "qa"
    example = Example(f"longalpaca-{index}", task, [Document("longalpaca", material)], question or "?", [output])
    doc = chunk_example(example, tokenizer, cfg.chunk_tokens)
    chosen = select_chunks("prefix", doc, question, _context_budget(cfg, rng), rng)
    return _record(doc, chosen, example, output, "longalpaca", {"mode": "prefix"})


def build_record(cfg: SFTDataConfig, tokenizer, seed: int, index: int) -> SFTRecord:
    rng = random.Random(f"sft:{seed}:{index}")
    source = rng.choices(cfg.sources, weights=cfg.weights)[0]
    if source == "mixed:train":
        return mixed_record(cfg, tokenizer, rng, seed * 1_000_003 + index)
    if source == "longalpaca":
        return longalpaca_record(cfg, tokenizer, rng)
    return summary_record(source, cfg, tokenizer, rng)


def build_sft_records(cfg: SFTDataConfig, tokenizer, n: int, seed: int = 0, progress=None) -> list[SFTRecord]:
    """``n`` records, each a pure function of (cfg, seed, index)."""
    records = []
    for i in range(n):
        records.append(build_record(cfg, tokenizer, seed, i))
        if progress is not None:
            progress(i + 1, n)
    return records
