"""The registry: names, specs, samples, errors, generated sets with a given tokenizer."""

import pytest
from helpers import tiny_tokenizer

from adactx.data import list_sets, load
from adactx.data.registry import parse_spec, sample
from adactx.errors import AdactxError


def test_every_set_is_listed_with_splits_and_task():
    names = {d.name: d for d in list_sets()}
    for name in (
        "qmsum",
        "squality",
        "bamboo-paperqa-16k",
        "passkey",
        "needle",
        "mixed",
        "govreport",
        "longalpaca",
    ):
        assert name in names and names[name].splits
    assert names["mixed"].generated and not names["qmsum"].generated
    assert parse_spec("qmsum")[1] == "val" and parse_spec("squality")[1] == "dev"
    assert parse_spec("bamboo-altqa-4k")[1] == "test" and parse_spec("mixed:train")[1] == "train"


def test_bad_specs_name_the_choices():
    with pytest.raises(AdactxError, match="unknown data set 'nope'; choose from qmsum"):
        load("nope")
    with pytest.raises(AdactxError, match="qmsum: unknown split 'dev'; choose from train, val, test"):
        load("qmsum:dev")


def test_sample_is_seeded_ordered_and_bounded():
    items = list(range(20))
    a = sample(items, 5, seed=1)
    assert a == sample(items, 5, seed=1) and a == sorted(a) and len(set(a)) == 5
    assert sample(items, None, 0) == items and sample(items, 99, 0) == items


def test_generated_sets_take_the_tokenizer(shared_data):
    tok = tiny_tokenizer()
    (ex,) = load("passkey", n=1, seed=3, tokenizer=tok)
    assert ex.task == "passkey" and ex.meta["seed"] == 3 and ex.meta["prompt_tokens"] <= 1000
    mixed = load("mixed:val", n=4, tokenizer=tok)
    assert [e.meta["variant"] for e in mixed] == ["single", "paraphrase", "multi", "distractor"]
    assert load("needle", n=2, tokenizer=tok)[1].meta["depth"] == 0.25
