"""kill -9 in the middle of an evaluation: the rerun recomputes nothing that finished, and the memo
lookups made before the kill are all counted."""

import signal
import sqlite3

import pytest
from adactx.retrieval.encoders import HashingEncoder
from adactx.rl import env as env_module
from adactx.rl.evaluate import EvalConfig, read_records, run_eval
from adactx.rl.safe_io import read_lookups
from helpers import start_python, tiny_reader, wait_for
from rl_fixtures import toy_examples

CFG = {"data": "mixed:val", "n": 4, "policies": ("full", "topk-2", "first-60"), "budget": 200, "max_steps": 3,
           "chunk_tokens": 24, "answer_tokens": 3, "summary_tokens": 3, "draft_tokens": 2, "encoder": "hashing", "n_boot": 50,
           "prefix_tokens": 60, "topk": 2, "lambdas": (0.0,)}

CHILD = """
import time
from helpers import tiny_reader
from rl_fixtures import toy_examples
from adactx.retrieval.encoders import HashingEncoder
from adactx.rl import env as env_module
from adactx.rl.evaluate import EvalConfig, run_eval
real = env_module.run_episode
def slow(env, policy, example):
    out = real(env, policy, example)
    time.sleep(0.4)  # time for the parent to kill us mid-example
    return out
env_module.run_episode = slow
run_eval(EvalConfig(**{cfg!r}), {run!r}, reader=tiny_reader(), encoder=HashingEncoder(),
         memo_path={memo!r}, examples=toy_examples(4))
"""


@pytest.mark.slow
def test_kill_mid_eval_then_rerun_recomputes_nothing_finished(tmp_path, monkeypatch):
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path / "cache"))
    run, memo = tmp_path / "run", tmp_path / "memo.sqlite"
    child = start_python(CHILD.format(cfg=CFG, run=str(run), memo=str(memo)), ADACTX_CACHE=tmp_path / "cache")
    records = run / "records.jsonl"
    try:
        wait_for(lambda: records.exists() and records.read_text().count("\n") >= 4 or child.poll() is not None)
    finally:
        child.send_signal(signal.SIGKILL)
        child.wait()
    assert child.returncode == -signal.SIGKILL, child.stderr.read()
    finished = {(r["example_id"], r["policy"]) for r in read_records(records)}
    assert 4 <= len(finished) < 12
    stored = sqlite3.connect(memo).execute("SELECT COUNT(*) FROM outcomes").fetchone()[0]
    assert read_lookups(run)["misses"] >= stored > 0  # every stored outcome was a counted miss

    played = []
    real = env_module.run_episode
    monkeypatch.setattr(env_module, "run_episode",
                        lambda env, policy, ex: played.append((ex.example_id, policy.name)) or real(env, policy, ex))
    run_eval(EvalConfig(**CFG), run, reader=tiny_reader(), encoder=HashingEncoder(), memo_path=memo,
             examples=toy_examples(4))
    assert not finished & set(played) and len(finished) + len(played) == 12
    assert len(read_records(records)) == 12
