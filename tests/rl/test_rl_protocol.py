"""The evaluation protocol end to end: documents as clusters, settings chosen on another split among the
asked baselines only, the oracle reported as a ceiling, summary lengths from the data."""

import json
from types import SimpleNamespace

import numpy as np
import pytest
from adactx.retrieval.encoders import HashingEncoder
from adactx.rl.evaluate import EvalConfig, read_records, run_eval, with_summary_length
from adactx.rl.evaluate import aggregate_tables as summarize
from adactx.rl.selection import load_selection, save_selection, selection_from_summary
from helpers import tiny_reader, tiny_tokenizer
from rl_fixtures import toy_examples

from adactx.errors import AdactxError

BASE = {
    "data": "mixed:val",
    "budget": 200,
    "max_steps": 4,
    "chunk_tokens": 24,
    "answer_tokens": 3,
    "draft_tokens": 2,
    "encoder": "hashing",
    "oracle_actions": ("retrieve-2", "extend-60"),
    "oracle_depth": 1,
    "n_boot": 300,
    "crossfit_repeats": 2,
    "lambdas": (0.0, 0.1),
}
NODES = ("none", "seq:retrieve-2", "seq:extend-60")


def _record(example_id: str, doc: str, policy: str, score: float, tokens: int = 100) -> dict:
    return {
        "example_id": example_id,
        "doc_id": doc,
        "policy": policy,
        "kind": "node" if policy in NODES else "policy",
        "group": "qa",
        "features": {"task": "qa", "group": "qa", "doc_tokens": 1000, "top": 1.0, "margin": 0.1},
        "score": score,
        "usage": {"tokens_computed": tokens, "flops": 1e9},
        "context_tokens": tokens,
        "wall_s": 0.1,
        "evidence_recall": None,
    }


def _write_run(path, cfg: EvalConfig, scores: dict[str, list[float]], docs: list[str]) -> None:
    path.mkdir(parents=True, exist_ok=True)
    (path / "config.json").write_text(json.dumps(cfg.to_dict()))
    with (path / "records.jsonl").open("w") as fh:
        for label, column in scores.items():
            for i, (score, doc) in enumerate(zip(column, docs)):
                fh.write(json.dumps(_record(f"e{i}", doc, label, float(score))) + "\n")


def test_an_oracle_tree_node_is_never_the_best_fixed_setting(tmp_path):
    cfg = EvalConfig(**BASE, policies=("first-60", "topk-2", "oracle"))
    n = 12
    scores = {"first-60": [0.2] * n, "topk-2": [0.3] * n, "none": [0.1] * n}
    scores |= {"seq:retrieve-2": [0.9] * n, "seq:extend-60": [0.5] * n}
    _write_run(tmp_path, cfg, scores, [f"d{i % 4}" for i in range(n)])
    summary = summarize(tmp_path)
    assert summary["best_fixed"] == "topk-2" and summary["chosen_on"] == "in-sample"
    assert all(e["best_fixed"] in ("first-60", "topk-2") for e in summary["reward_rows"])
    assert "chosen in-sample" in summary["table"] and "biased in its favour" in summary["table"]
    assert summary["n_documents"] == 4 and "4 documents" in summary["table"]


def test_identical_policies_give_the_oracle_a_large_gap_shown_as_a_ceiling_without_a_star(tmp_path):
    """13 fixed settings with one score distribution (n = 100, one question per document): the oracle's
    headroom over the best of them is large and its CI far from 0, by construction, so the table prints
    it as a ceiling (no *) and the verdict calls it an upper bound, not a win."""
    rng = np.random.default_rng(0)
    n = 100
    policies = tuple(f"first-{100 * (i + 1)}" for i in range(13))
    cfg = EvalConfig(**{**BASE, "oracle_depth": 0}, policies=(*policies, "oracle"))
    # one score distribution for all: a reader that mostly scores low, as ROUGE-L does
    scores = {p: rng.beta(2, 8, n) for p in policies} | {"none": rng.beta(2, 8, n)}
    _write_run(tmp_path, cfg, scores, [f"d{i}" for i in range(n)])
    summary = summarize(tmp_path)
    entry = summary["reward_rows"][0]
    gap, lo, _hi = entry["oracle_diff"]
    assert gap > 0.1 and lo > 0.05  # "significant" though every policy is the same
    oracle_row = next(r for r in summary["rows"] if r["policy"] == "oracle λ=0")
    table = summary["table"].splitlines()
    printed = next(line for line in table if line.startswith("| oracle λ=0 |"))
    assert oracle_row["diff_ci"][0] > 0 and "*" not in printed
    assert any("ceiling" in line and "not a verdict" in line for line in table)
    assert not any("oracle beats" in line for line in table)


def test_choosing_the_best_fixed_setting_in_sample_flatters_it(tmp_path):
    """The same 13 identical policies: chosen on the examples it is compared on, the best one looks
    better than the rest ("*" against several); chosen on another split, it is just one of them."""
    rng = np.random.default_rng(0)
    n = 100
    policies = tuple(f"first-{100 * (i + 1)}" for i in range(13))
    docs = [f"d{i}" for i in range(n)]
    for split in ("val", "test"):
        cfg = EvalConfig(**{**BASE, "data": f"mixed:{split}"}, policies=policies)
        _write_run(tmp_path / split, cfg, {p: rng.beta(2, 8, n) for p in policies}, docs)
    in_sample = summarize(tmp_path / "test")
    save_selection(tmp_path / "test", selection_from_summary(summarize(tmp_path / "val"), list(policies)))
    test_cfg = EvalConfig(**{**BASE, "data": "mixed:test"}, policies=policies, select_on="val")
    chosen_on_val = summarize(tmp_path / "test", test_cfg)

    def starred(summary):  # policies "significantly worse" than the reference
        return sum(r["diff_ci"][1] < 0 for r in summary["rows"] if r["policy"] != summary["best_fixed"])

    assert chosen_on_val["chosen_on"] == "mixed:val" and in_sample["chosen_on"] == "in-sample"
    assert starred(in_sample) > starred(chosen_on_val)
    ref = {s["best_fixed"]: s for s in (in_sample, chosen_on_val)}
    score = {r["policy"]: r["score"] for r in in_sample["rows"]}
    assert score[in_sample["best_fixed"]] == max(score[p] for p in policies)
    assert len(ref) == 2  # val picked another of the identical policies than the test split would


def test_clustered_cis_in_the_table_widen_with_shared_documents(tmp_path):
    rng = np.random.default_rng(1)
    cfg = EvalConfig(**BASE, policies=("first-60", "topk-2"))
    doc_effect = np.repeat(rng.normal(0.4, 0.15, 10), 6)
    scores = {p: doc_effect + rng.normal(0, 0.02, 60) for p in ("first-60", "topk-2")}
    _write_run(tmp_path / "clustered", cfg, scores, [f"d{i // 6}" for i in range(60)])
    _write_run(tmp_path / "iid", cfg, scores, [f"d{i}" for i in range(60)])
    clustered, iid = summarize(tmp_path / "clustered"), summarize(tmp_path / "iid")
    width = {k: np.diff(s["rows"][0]["ci"])[0] for k, s in (("clustered", clustered), ("iid", iid))}
    assert width["clustered"] > 1.7 * width["iid"]
    assert clustered["rows"][0]["score"] == pytest.approx(iid["rows"][0]["score"])
    assert "resampling documents (10 clusters)" in clustered["table"]
    assert "Warning: n = 60 examples on 10 documents" in clustered["table"]
    assert "Warning" not in iid["table"]


def _toy_split(split: str) -> list:
    examples = toy_examples(3)
    for ex in examples:
        ex.example_id = f"{split}-{ex.example_id}"
        ex.documents[0].doc_id = f"{split}-{ex.example_id[-1]}"
    return examples


def test_select_on_chooses_on_one_split_and_reports_on_the_other(tmp_path, monkeypatch):
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path / "cache"))
    policies = ("first-60", "topk-2", "threshold-1", "threshold-0.5", "oracle")
    cfg = EvalConfig(**BASE, n=3, policies=policies, select_on="test")
    out = tmp_path / "run"
    summary = run_eval(
        cfg,
        out,
        reader=tiny_reader(),
        encoder=HashingEncoder(),
        memo_path=tmp_path / "memo.sqlite",
        examples=_toy_split("val"),
        select_examples=_toy_split("test"),
    )
    sel = load_selection(out)
    assert sel is not None and sel.data == "mixed:test" and sel.n == 3 and sel.n_documents == 3
    # chosen from the selection split's own records, among the asked fixed baselines only
    records = read_records(out / "select-test" / "records.jsonl")
    assert {r["policy"] for r in records} == set(policies) - {"oracle"}  # no oracle tree there
    assert all(r["example_id"].startswith("test-") for r in records)
    means = {p: np.mean([r["score"] for r in records if r["policy"] == p]) for p in ("first-60", "topk-2")}
    assert means[sel.best_fixed] == max(means.values())
    assert sel.knobs["threshold"] in ("threshold-1", "threshold-0.5")
    # the report split compares against that choice, and says where it came from
    assert summary["best_fixed"] == sel.best_fixed and summary["chosen_on"] == "mixed:test"
    assert [e["best_fixed"] for e in summary["reward_rows"]] == [
        sel.best_fixed_at["0"],
        sel.best_fixed_at["0.1"],
    ]
    assert f"best fixed setting: {sel.best_fixed}, chosen on mixed:test" in summary["table"]
    assert f"{sel.knobs['threshold']} (chosen on mixed:test)" in summary["table"]
    assert json.loads((out / "config.json").read_text())["select_on"] == "test"
    assert summarize(out)["best_fixed"] == sel.best_fixed  # redrawn offline from the run directory


def test_select_n_sizes_the_selection_split_on_its_own(tmp_path, monkeypatch):
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path / "cache"))
    cfg = EvalConfig(**BASE, n=3, select_n=2, policies=("first-60", "topk-2"), select_on="test")
    seen = []
    monkeypatch.setattr(
        "adactx.rl.evaluate.load_examples", lambda c, tok: seen.append((c.data, c.n)) or _toy_split(c.data.split(":")[1])[: c.n]
    )
    run_eval(cfg, tmp_path / "run", reader=tiny_reader(), encoder=HashingEncoder(), memo_path=tmp_path / "m.sqlite")
    assert seen == [("mixed:test", 2), ("mixed:val", 3)]
    assert load_selection(tmp_path / "run").n == 2
    with pytest.raises(AdactxError, match="select_n: must be >= 1"):
        EvalConfig(**BASE, select_n=0, policies=("full",), select_on="test")


def test_select_on_the_reported_split_is_refused():
    with pytest.raises(AdactxError, match="is the split reported on"):
        EvalConfig(**BASE, policies=("full",), select_on="val")


def test_summary_tokens_come_from_the_train_references_and_are_recorded(shared_data):
    from adactx.data.lengths import summary_length

    reader = SimpleNamespace(tokenizer=tiny_tokenizer())
    cfg = with_summary_length(EvalConfig(data="squality:dev", policies=("full",)), reader)
    expected = summary_length("squality:dev", reader.tokenizer)
    assert cfg.summary_tokens == expected.tokens and "squality:train" in cfg.summary_tokens_from
    assert cfg.to_dict()["summary_tokens_from"] == cfg.summary_tokens_from  # what config.json records
    kept = with_summary_length(EvalConfig(data="squality:dev", summary_quantile=0, summary_tokens=32), reader)
    assert kept.summary_tokens == 32 and kept.summary_tokens_from == ""
    qa = with_summary_length(EvalConfig(data="mixed:val"), reader)
    assert qa.summary_tokens == EvalConfig().summary_tokens  # QA sets keep their caps


def test_the_table_reports_the_share_of_the_oracle_headroom_an_adaptive_policy_closes(tmp_path):
    cfg = EvalConfig(**{**BASE, "oracle_depth": 0}, policies=("first-60", "topk-2", "threshold", "oracle"))
    n = 20
    alternate = lambda a, b: [a if i % 2 == 0 else b for i in range(n)]
    scores = {"first-60": [0.2] * n, "topk-2": [0.3] * n, "threshold": alternate(0.3, 0.5)}
    scores["none"] = alternate(0.6, 0.0)  # the oracle: 0.6 / 0.5 -> mean 0.55; best fixed topk-2 0.3
    _write_run(tmp_path, cfg, scores, [f"d{i // 4}" for i in range(n)])
    summary = summarize(tmp_path)
    for entry in summary["reward_rows"]:  # equal tokens everywhere, so every λ shifts all rewards alike
        share, lo, hi = entry["gap_closed"]["threshold"]
        assert share == pytest.approx((0.4 - 0.3) / (0.55 - 0.3)) and lo <= share <= hi
    assert "first-60" not in summary["reward_rows"][0]["gap_closed"]  # fixed settings are the reference
    assert "| threshold | 0.400 [" in summary["table"] and "headroom closed" in summary["table"]
