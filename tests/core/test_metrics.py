"""Metrics: definitions on hand-made cases, and LongLoRA's published LongBench scores reproduced."""

import json

import pytest

from adactx.metrics import (
    bleu,
    choose_option,
    longbench_score,
    normalize_answer,
    qa_f1,
    score,
)


def test_squad_normalization_f1_and_em():
    assert normalize_answer("The  Cat, sat!") == "cat sat"
    assert qa_f1("the cat sat", "a cat sat down") == pytest.approx(2 * 1.0 * (2 / 3) / (1 + 2 / 3))
    s = score("qa", "It was 42.", ["forty-two", "42"])
    assert s["em"] == 0.0 and s["contains"] == 1.0 and s["f1"] == pytest.approx(0.5) and s["score"] == s["f1"]
    assert score("qa", "42", ["42"])["em"] == 1.0
    assert score("qa", "142", ["42"])["contains"] == 0.0  # whole words only


def test_summary_scores_take_the_best_reference():
    refs = ["the budget was cut by ten percent", "nothing related at all here"]
    best = score("query_summary", "they cut the budget by ten percent", refs)
    only = score("query_summary", "they cut the budget by ten percent", refs[:1])
    assert best == only and 0.5 < best["rougeL"] <= 1.0 and best["score"] == best["rougeL"]
    assert score("summary", "same words here", ["same words here"])["rouge2"] == pytest.approx(1.0)
    assert bleu("the cat sat on the mat", ["the cat sat on the mat"]) == pytest.approx(1.0)
    assert bleu("completely different", ["the cat sat on the mat"]) < 0.1


def test_multiple_choice_and_passkey():
    options = ["A. he thinks it is supportive.", "B. he thinks it is impractical.", "C. useful"]
    assert choose_option("B", options) == "B" and choose_option("(c) useful", options) == "C"
    assert choose_option("He thinks it is impractical", options) == "B"
    assert score("qa", "Answer: B.", ["B"], options=options)["accuracy"] == 1.0
    assert score("qa", "A", ["B"], options=options)["score"] == 0.0
    assert score("passkey", "The pass key is 4242. Remember", ["4242"])["accuracy"] == 1.0
    assert score("passkey", "12 then 4242", ["4242"])["accuracy"] == 0.0
    with pytest.raises(ValueError, match="task"):
        score("nope", "a", ["a"])


# LongLoRA's result.json, recomputed from its prediction files (metric variant named per data set).
LONGBENCH_TASKS = [
    "qasper",
    "narrativeqa",
    "hotpotqa",
    "2wikimqa",
    "musique",
    "multifieldqa_en",
    "triviaqa",  # QA F1
    "qmsum",
    "samsum",
    "gov_report",
    "multi_news",  # ROUGE-L (the `rouge` package, as LongBench)
    "trec",
    "passage_count",
    "passage_retrieval_en",
    "lcc",
    "repobench-p",
]


@pytest.mark.parametrize("dataset", LONGBENCH_TASKS)
def test_longbench_scores_reproduce_longloras_result_json(shared_data, dataset):
    folder = shared_data / "longlora_preds" / "Pred_LongBench"
    published = json.loads((folder / "result.json").read_text())[dataset]
    rows = [json.loads(line) for line in (folder / f"{dataset}.jsonl").open()]
    ours = longbench_score(
        dataset, [r["pred"] for r in rows], [r["answers"] for r in rows], rows[0]["all_classes"]
    )
    assert ours == pytest.approx(published, abs=0.05)
