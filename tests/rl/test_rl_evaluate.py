"""The harness: run directory, resume without recomputation, summary table, evidence recall, plots."""

import json

import pytest
from adactx.retrieval.encoders import HashingEncoder
from adactx.rl import env as env_module
from adactx.rl.evaluate import EvalConfig, evidence_recall, read_records, run_eval
from adactx.rl.evaluate import aggregate_tables as summarize
from helpers import tiny_reader
from rl_fixtures import toy_examples

from adactx.errors import AdactxError
from adactx.types import Document, Example, Span

CFG = {
    "data": "mixed:val",
    "n": 4,
    "policies": ("full", "first-60", "topk-2", "threshold", "oracle"),
    "budget": 200,
    "max_steps": 4,
    "chunk_tokens": 24,
    "answer_tokens": 3,
    "summary_tokens": 3,
    "draft_tokens": 2,
    "encoder": "hashing",
    "oracle_actions": ("retrieve-2", "extend-60"),
    "oracle_depth": 1,
    "sensitivity": True,
    "n_boot": 200,
    "crossfit_repeats": 3,
    "prefix_tokens": 60,
    "topk": 2,
    "lambdas": (0.0, 0.1),
}


def _run(tmp_path, reader, **kw):
    return run_eval(
        EvalConfig(**{**CFG, **kw}),
        tmp_path / "run",
        reader=reader,
        encoder=HashingEncoder(),
        memo_path=tmp_path / "memo.sqlite",
        examples=toy_examples(kw.get("n", 4)),
    )


def test_run_writes_records_summary_and_figures_then_resumes_without_recomputing(tmp_path, monkeypatch):
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path / "cache"))
    reader = tiny_reader()
    summary = _run(tmp_path, reader, n=3)
    records = read_records(tmp_path / "run" / "records.jsonl")
    labels = {r["policy"] for r in records}
    assert {
        "full",
        "first-60",
        "topk-2",
        "threshold",
        "none",
        "seq:retrieve-2",
        "seq:extend-60",
        "gold",
    } <= labels
    assert (
        summary["n"] == 3 and "oracle λ=0" in summary["table"] and "cross-fit rule λ=0.1" in summary["table"]
    )
    assert "Reader sensitivity" in summary["table"]
    assert (tmp_path / "run" / "figures" / "pareto.png").stat().st_size > 0
    assert (tmp_path / "run" / "figures" / "decisions_threshold.png").exists()
    assert all(r["evidence_recall"] is not None for r in records)
    # interrupted mid-write: a torn last line is skipped and redone; finished pairs are never recomputed
    with (tmp_path / "run" / "records.jsonl").open("a") as fh:
        fh.write('{"example_id": "toy3", "pol')
    played = []
    real = env_module.run_episode
    monkeypatch.setattr(
        env_module,
        "run_episode",
        lambda env, policy, ex: played.append(ex.example_id) or real(env, policy, ex),
    )
    first = json.loads((tmp_path / "run" / "memo_lookups.json").read_text())
    assert first["misses"] > 0
    summary = _run(tmp_path, reader, n=4)
    assert set(played) == {"toy3"} and summary["n"] == 4
    # the run's memo lookups add up over its invocations
    total = json.loads((tmp_path / "run" / "memo_lookups.json").read_text())
    this = summary["memo"]
    assert total["hits"] == first["hits"] + this["hits"] and total["misses"] == first["misses"] + this["misses"]
    assert summary["memo_run"] == total and "all invocations" in summary["table"]
    assert (
        summary["table"].startswith(summarize(tmp_path / "run")["table"])
        and "Reader memo" in summary["table"]
    )
    by_contains = summarize(tmp_path / "run", EvalConfig(**{**CFG, "metric": "contains"}))
    assert by_contains["metric"] == "contains" and by_contains["table"].startswith("### mixed:val: contains")


def test_resume_refuses_other_settings(tmp_path, monkeypatch):
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path / "cache"))
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text(json.dumps({**EvalConfig(**CFG).to_dict(), "budget": 999}))
    with pytest.raises(AdactxError, match="budget"):
        _run(tmp_path, tiny_reader())


def test_evidence_recall_counts_covered_gold_characters():
    ex = Example("e", "qa", [Document("d", "x" * 100)], "q", ["a"], [Span(0, 10, 20), Span(0, 50, 60)])
    assert evidence_recall(ex, [[0, 15], [12, 18], [55, 100]]) == pytest.approx((8 + 5) / 20)
    assert evidence_recall(Example("e", "qa", [Document("d", "x")], "q", ["a"]), [[0, 1]]) is None


def test_config_validates_names():
    with pytest.raises(AdactxError, match="unknown policy"):
        EvalConfig(policies=("nonsense",))
    with pytest.raises(AdactxError, match="oracle_depth"):
        EvalConfig(oracle_depth=-1)
