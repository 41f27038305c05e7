"""Reader sensitivity: the gold-evidence condition reads only gold text, cut to the budget."""

from adactx.rl.evaluate import EvalConfig
from adactx.rl.sensitivity import condition_policies, gold_outcome
from helpers import tiny_reader
from rl_fixtures import TEXT

from adactx.types import Document, Example, Span


def test_gold_condition_cuts_a_long_span_to_the_budget():
    reader = tiny_reader()
    example = Example(
        "e", "qa", [Document("d", TEXT)], "What about the budget?", ["budget"], [Span(0, 0, len(TEXT))]
    )
    cfg = EvalConfig(budget=50, answer_tokens=3, encoder="hashing")
    outcome = gold_outcome(reader, example, cfg)
    assert 0 < outcome["context_tokens"] <= 50
    start, end = outcome["pieces"][0]
    assert start == 0 and 0 < end < len(TEXT)


def test_conditions_name_the_baselines_they_reuse():
    cfg = EvalConfig(prefix_tokens=512, topk=3, encoder="hashing")
    assert condition_policies(cfg) == {"prefix": "first-512", "top-k": "topk-3", "longest": "full"}
