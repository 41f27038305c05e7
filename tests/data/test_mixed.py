"""The mixed suite over the real haystacks (tiny tokenizer for lengths): answers, spans, variants."""

import itertools
import re

import pytest
from helpers import tiny_tokenizer

from adactx.data.facts import SINGLE_FACTS, content_words
from adactx.data.haystack import haystack_texts
from adactx.data.mixed import MixedConfig, mixed_example, mixed_suite
from adactx.metrics import score


def facts_text(ex):
    return [ex.document.text[s.start : s.end] for s in ex.evidence]


def lexical_top1(question: str, text: str) -> str:
    """The sentence sharing the most content words with the question (a stand-in for top-1 retrieval)."""
    sentences = re.split(r"(?<=[.!?])\s+|\n+", text)
    return max(sentences, key=lambda s: len(content_words(s) & content_words(question)))


@pytest.mark.parametrize("source", ["pg", "qmsum", "squality"])
@pytest.mark.parametrize("variant", ["single", "paraphrase", "distractor"])
def test_single_fact_variants(shared_data, source, variant):
    tok = tiny_tokenizer()
    ex = mixed_example(variant, 800, tok, seed=11, source=source)
    (fact,) = facts_text(ex)
    answer = ex.references[0]
    assert answer in fact and ex.task == "qa" and ex.meta["variant"] == variant
    assert 700 <= ex.meta["doc_tokens"] <= 800 and ex.meta["haystack_source"] == source
    assert score("qa", f"It is {answer}.", ex.references)["contains"] == 1.0
    overlap = content_words(ex.query) & content_words(fact)
    assert (not overlap) if variant == "paraphrase" else len(overlap) >= 2
    distractors = [ex.document.text[a:b] for a, b in ex.meta["distractor_spans"]]
    assert len(distractors) == (3 if variant == "distractor" else 0)
    assert all(answer not in d.split() and d != fact for d in distractors)
    assert mixed_example(variant, 800, tok, seed=11, source=source).to_dict() == ex.to_dict()


def test_lexical_retrieval_finds_direct_needles_and_misses_paraphrases(shared_data):
    tok = tiny_tokenizer()
    hits = {"single": 0, "paraphrase": 0}
    for seed in range(12):
        for variant in hits:
            ex = mixed_example(variant, 600, tok, seed=seed, source="pg")
            hits[variant] += lexical_top1(ex.query, ex.document.text) == facts_text(ex)[0]
    assert hits["single"] >= 11 and hits["paraphrase"] <= 2


@pytest.mark.parametrize("k", [1, 4, 8])
def test_multi_needle_count_list_compare(shared_data, k):
    tok = tiny_tokenizer()
    count = mixed_example("multi", 1200, tok, seed=k, k=k, kind="count", source="qmsum")
    assert len(count.evidence) == k == count.meta["k"] and count.references[0] == str(k)
    listed = mixed_example("multi", 1200, tok, seed=k, k=k, kind="list", source="pg")
    in_doc_order = [next(item for item in listed.meta["items"] if item in f) for f in facts_text(listed)]
    assert listed.references == [", ".join(in_doc_order)]
    compare = mixed_example("multi", 1200, tok, seed=k, k=k, kind="compare", source="squality")
    values = {
        item: int(re.findall(r"\d+", f)[-1])
        for f in facts_text(compare)
        for item in compare.meta["items"]
        if item in f
    }
    pick = max if "most" in compare.query else min
    assert compare.references == [pick(values, key=values.get)]
    spans = sorted((s.start, s.end) for s in compare.evidence)
    assert all(a_end <= b_start for (_, a_end), (b_start, _) in itertools.pairwise(spans))


def test_depth_is_controllable(shared_data):
    tok = tiny_tokenizer()
    for depth in (0.0, 0.5, 1.0):
        ex = mixed_example("single", 1000, tok, seed=2, depth=depth)
        assert abs(ex.evidence[0].start / len(ex.document.text) - depth) < 0.1


def test_suite_cycles_variants_lengths_and_keeps_splits_apart(shared_data):
    tok = tiny_tokenizer()
    config = MixedConfig(lengths=(400, 800), sources=("pg",))
    exs = mixed_suite(config, tok, split="val", n=8, seed=0)
    assert [e.meta["variant"] for e in exs[:4]] == ["single", "paraphrase", "multi", "distractor"]
    assert [e.meta["n_tokens"] for e in exs] == [400] * 4 + [800] * 4
    assert len({e.example_id for e in exs}) == 8
    assert [e.to_dict() for e in mixed_suite(config, tok, split="val", n=3, seed=0)] == [
        e.to_dict() for e in exs[:3]
    ]
    train_ids = {i for i, _ in haystack_texts("pg", "train")}
    assert train_ids.isdisjoint(i for i, _ in haystack_texts("pg", "test"))
    with pytest.raises(ValueError, match="MixedConfig.k_values"):
        MixedConfig(k_values=(9,))


def test_every_paraphrase_avoids_the_facts_words():
    for fact in SINGLE_FACTS:
        for slot, slot_paraphrase in fact.slots:
            written = content_words(fact.fact.format(slot=slot, value=""))
            assert not written & content_words(fact.paraphrase.format(slot=slot_paraphrase)), fact.key
            assert len(written & content_words(fact.question.format(slot=slot))) >= 2, fact.key
