"""The mixed long-context suite: facts with short answers hidden in real text, needing varying context.

    ex = mixed_example("paraphrase", 2000, tokenizer, seed=7, source="pg")
    ex = mixed_example("multi", 4000, tokenizer, seed=7, k=5, kind="list")
    exs = mixed_suite(MixedConfig(lengths=(1000, 2000)), tokenizer, split="test", n=100, seed=0)

Variants (``meta["variant"]``), all ``task="qa"`` with gold evidence spans over the inserted facts:

    single      one fact; the question reuses its words, so top-1 retrieval finds it
    paraphrase  the same kind of fact; the question shares no content word with it
    multi       K = 1..8 facts the answer combines: ``count`` (how many), ``list`` (which ones, in
                document order) or ``compare`` (which has the largest / smallest value)
    distractor  the single fact plus near-miss facts (same template, other slot and value) elsewhere;
                their spans are in ``meta["distractor_spans"]``

The haystack is real text (``haystack.SOURCES``: Paul Graham essays, QMSum transcripts, SQuALITY
stories) from the split's own part of each source, cut at a sentence end so that the finished document
has about ``n_tokens`` reader tokens (``meta["doc_tokens"]`` is exact). References are short: a number
(with its word form for counts), a name, a colour, a word, or a comma-separated list; queries end with a
format hint ("Answer with a number."). Every example is a pure function of (split, seed, index).
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from adactx.data.facts import (
    AGENTS,
    COMPARE_FACTS,
    FORMAT_HINTS,
    GROUP_FACTS,
    NUMBER_WORDS,
    SINGLE_FACTS,
    SingleFact,
)
from adactx.data.haystack import SOURCES, count_tokens, cut_to_tokens, insert_sentences, source_text
from adactx.types import Document, Example

VARIANTS = ("single", "paraphrase", "multi", "distractor")
MULTI_KINDS = ("count", "list", "compare")
SPLIT_SEED_OFFSET = {"train": 0, "val": 1_000_003, "test": 2_000_003}


@dataclass
class MixedConfig:
    """What a generated mixed suite contains; every field is sampled per example from its options."""

    lengths: tuple[int, ...] = field(
        default=(1000, 2000, 4000, 6000), metadata={"help": "document lengths in reader tokens (cycled)"}
    )
    variants: tuple[str, ...] = field(
        default=VARIANTS, metadata={"help": "variants, cycled example by example"}
    )
    sources: tuple[str, ...] = field(
        default=SOURCES, metadata={"help": "haystack sources, drawn per example"}
    )
    k_values: tuple[int, ...] = field(default=tuple(range(1, 9)), metadata={"help": "K for multi, drawn"})
    multi_kinds: tuple[str, ...] = field(default=MULTI_KINDS, metadata={"help": "multi questions, drawn"})
    n_distractors: int = field(default=3, metadata={"help": "near-miss facts in the distractor variant"})
    depth: float | None = field(
        default=None, metadata={"help": "depth of the target fact in [0, 1]; None draws it uniformly"}
    )
    default_size: int = field(default=200, metadata={"help": "examples generated when n is None"})

    def __post_init__(self) -> None:
        checks = {
            "lengths": bool(self.lengths) and min(self.lengths) >= 200,
            "variants": bool(self.variants) and set(self.variants) <= set(VARIANTS),
            "sources": bool(self.sources) and set(self.sources) <= set(SOURCES),
            "k_values": bool(self.k_values) and min(self.k_values) >= 1 and max(self.k_values) <= 8,
            "multi_kinds": bool(self.multi_kinds) and set(self.multi_kinds) <= set(MULTI_KINDS),
            "n_distractors": 1 <= self.n_distractors <= 3,
            "depth": self.depth is None or 0.0 <= self.depth <= 1.0,
            "default_size": self.default_size >= 1,
        }
        for name, ok in checks.items():
            if not ok:
                raise ValueError(f"MixedConfig.{name}: invalid value {getattr(self, name)!r}")


@dataclass
class FactPlan:
    """What to insert and ask: sentences (the target ones first), the question, the references."""

    sentences: list[str]
    n_targets: int  # the first n_targets sentences are gold evidence; the rest are distractors
    query: str
    references: list[str]
    meta: dict


def _single_plan(rng: random.Random, paraphrase: bool, n_distractors: int = 0) -> FactPlan:
    template: SingleFact = rng.choice(SINGLE_FACTS)
    slots = rng.sample(template.slots, 1 + n_distractors)
    values: list[str] = []
    for _ in slots:
        values.append(template.value.draw(rng, exclude=set(values)))
    sentences = [template.fact.format(slot=slot, value=value) for (slot, _), value in zip(slots, values)]
    slot, slot_paraphrase = slots[0]
    question = (
        template.paraphrase.format(slot=slot_paraphrase)
        if paraphrase
        else template.question.format(slot=slot)
    )
    return FactPlan(
        sentences,
        1,
        f"{question} {FORMAT_HINTS[template.value.kind]}",
        [values[0]],
        {"template": template.key, "slot": slot, "distractor_values": values[1:]},
    )


def _group_plan(rng: random.Random, k: int, kind: str) -> FactPlan:
    template = rng.choice(GROUP_FACTS)
    agent = rng.choice(AGENTS)
    items = rng.sample(template.items, k)
    sentences = [template.fact.format(agent=agent, item=item) for item in items]
    if kind == "count":
        query, refs = (
            f"{template.count_question.format(agent=agent)} {FORMAT_HINTS['number']}",
            [str(k), NUMBER_WORDS[k]],
        )
    else:
        query, refs = (
            f"{template.list_question.format(agent=agent)} {FORMAT_HINTS['list']}",
            [", ".join(items)],
        )
    return FactPlan(sentences, k, query, refs, {"template": template.key, "items": items})


def _compare_plan(rng: random.Random, k: int) -> FactPlan:
    template = rng.choice(COMPARE_FACTS)
    items = rng.sample(template.items, k)
    values: list[str] = []
    for _ in items:
        values.append(template.value.draw(rng, exclude=set(values)))
    numbers = [int(v) for v in values]
    best = numbers.index(max(numbers) if template.largest else min(numbers))
    sentences = [template.fact.format(item=item, value=value) for item, value in zip(items, values)]
    hint = FORMAT_HINTS["word"]
    return FactPlan(
        sentences,
        k,
        f"{template.question} {hint}",
        [items[best]],
        {"template": template.key, "items": items, "values": numbers},
    )


def plan_facts(variant: str, rng: random.Random, k: int, kind: str, n_distractors: int) -> FactPlan:
    if variant == "single":
        return _single_plan(rng, paraphrase=False)
    if variant == "paraphrase":
        return _single_plan(rng, paraphrase=True)
    if variant == "distractor":
        return _single_plan(rng, paraphrase=False, n_distractors=n_distractors)
    if variant == "multi":
        return _compare_plan(rng, k) if kind == "compare" else _group_plan(rng, k, kind)
    raise ValueError(f"variant: unknown {variant!r}; choose from {', '.join(VARIANTS)}")


def _depths(rng: random.Random, n_sentences: int, n_targets: int, depth: float | None) -> list[float]:
    """Target depth(s) then distractor depths; ``depth`` fixes the single target's depth."""
    depths = [rng.random() for _ in range(n_sentences)]
    if depth is not None and n_targets == 1:
        depths[0] = depth
    return depths


def mixed_example(
    variant: str,
    n_tokens: int,
    tokenizer,
    seed: int,
    source: str = "pg",
    split: str = "test",
    depth: float | None = None,
    k: int = 3,
    kind: str = "count",
    n_distractors: int = 3,
) -> Example:
    """One example of ``variant`` whose document has about ``n_tokens`` ``tokenizer`` tokens."""
    rng = random.Random(f"mixed:{split}:{seed}")
    plan = plan_facts(variant, rng, k, kind, n_distractors)
    depths = _depths(rng, len(plan.sentences), plan.n_targets, depth)
    fact_tokens = sum(count_tokens(tokenizer, s) + 1 for s in plan.sentences)
    haystack_id, text = source_text(source, split, rng, min_chars=6 * n_tokens)
    haystack = cut_to_tokens(text, max(n_tokens - fact_tokens, 50), tokenizer)
    doc_text, spans = insert_sentences(haystack, list(zip(depths, plan.sentences)))
    references = plan.references
    if variant == "multi" and kind == "list":  # list the items in the order the document gives them
        order = sorted(range(plan.n_targets), key=lambda i: spans[i].start)
        references = [", ".join(plan.meta["items"][i] for i in order)]
    meta = {
        "variant": variant,
        "n_tokens": n_tokens,
        "doc_tokens": count_tokens(tokenizer, doc_text),
        "haystack": haystack_id,
        "haystack_source": source,
        "split": split,
        "seed": seed,
        "depths": [round(s.start / len(doc_text), 4) for s in spans[: plan.n_targets]],
        "distractor_spans": [[s.start, s.end] for s in spans[plan.n_targets :]],
        **plan.meta,
    }
    if variant == "multi":
        meta.update(k=len(plan.sentences), kind=kind)
    return Example(
        example_id=f"mixed-{split}-{variant}-{seed}",
        task="qa",
        documents=[
            Document(doc_id=f"mixed-{split}-{seed}", text=doc_text, title=haystack_id, source="mixed")
        ],
        query=plan.query,
        references=references,
        evidence=sorted(spans[: plan.n_targets], key=lambda s: s.start),
        source="mixed",
        meta=meta,
    )


def mixed_suite(
    config: MixedConfig, tokenizer, split: str = "test", n: int | None = None, seed: int = 0
) -> list[Example]:
    """``n`` examples: variants and lengths cycled, source / K / kind drawn from (split, seed, index)."""
    n = config.default_size if n is None else n
    examples = []
    for i in range(n):
        example_seed = SPLIT_SEED_OFFSET[split] + seed * 100_003 + i
        rng = random.Random(f"mixed-suite:{split}:{example_seed}")
        variant = config.variants[i % len(config.variants)]
        n_tokens = config.lengths[(i // len(config.variants)) % len(config.lengths)]
        examples.append(
            mixed_example(
                variant,
                n_tokens,
                tokenizer,
                example_seed,
                source=rng.choice(config.sources),
                split=split,
                depth=config.depth,
                k=rng.choice(config.k_values),
                kind=rng.choice(config.multi_kinds),
                n_distractors=config.n_distractors,
            )
        )
    return examples
