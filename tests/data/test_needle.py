"""Needle in a haystack over the PG essays: position, length, needle kinds."""

import pytest
from helpers import tiny_tokenizer

from adactx.data.needle import KAMRADT_NEEDLE, NeedleConfig, needle_example, needle_suite


@pytest.mark.parametrize("depth", [0.0, 0.25, 0.5, 1.0])
def test_magic_number_needle_sits_at_depth(shared_data, depth):
    ex = needle_example(1500, tiny_tokenizer(), seed=4, depth=depth)
    (span,) = ex.evidence
    needle = ex.document.text[span.start : span.end]
    assert needle.startswith("The special magic number for ") and ex.references[0] in needle
    assert abs(ex.meta["position"] - depth) < 0.1 and 1350 <= ex.meta["doc_tokens"] <= 1500
    assert ex.meta["haystack"].startswith("pg-")


def test_kamradt_needle_and_suite_grid(shared_data):
    ex = needle_example(800, tiny_tokenizer(), seed=0, depth=0.5, needle="kamradt")
    assert ex.document.text[ex.evidence[0].start : ex.evidence[0].end] == KAMRADT_NEEDLE
    exs = needle_suite(NeedleConfig(lengths=(500, 900), depths=(0.0, 1.0)), tiny_tokenizer(), n=5, seed=1)
    assert [(e.meta["n_tokens"], e.meta["depth"], e.meta["seed"]) for e in exs] == [
        (500, 0.0, 1),
        (500, 1.0, 1),
        (900, 0.0, 1),
        (900, 1.0, 1),
        (500, 0.0, 2),
    ]
    with pytest.raises(ValueError, match="NeedleConfig.needle"):
        NeedleConfig(needle="other")
