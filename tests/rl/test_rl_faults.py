"""The evaluation under faults: torn writes, damaged lines and databases, crashes mid-example, bad names."""

import builtins
import io
import json
import logging

import pytest
from adactx.retrieval.encoders import HashingEncoder
from adactx.rl import env as env_module
from adactx.rl.evaluate import EvalConfig, run_eval
from adactx.rl.memo import OutcomeMemo
from adactx.rl.safe_io import read_lookups
from helpers import one_error_line, run_cli, tiny_reader
from rl_fixtures import toy_examples

from adactx.errors import AdactxError

CFG = {
    "data": "mixed:val", "n": 2, "policies": ("full", "topk-2"), "budget": 200, "max_steps": 3,
    "chunk_tokens": 24, "answer_tokens": 3, "summary_tokens": 3, "draft_tokens": 2, "encoder": "hashing",
    "n_boot": 50, "prefix_tokens": 60, "topk": 2, "lambdas": (0.0,),
}


def _run(tmp_path, reader=None, **kw):
    return run_eval(EvalConfig(**{**CFG, **kw}), tmp_path / "run", reader=reader or tiny_reader(),
                    encoder=HashingEncoder(), memo_path=tmp_path / "memo.sqlite",
                    examples=toy_examples(kw.get("n", CFG["n"])))


@pytest.fixture(autouse=True)
def _cache(tmp_path, monkeypatch):
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path / "cache"))


def _count_episodes(monkeypatch) -> list:
    played = []
    real = env_module.run_episode
    monkeypatch.setattr(env_module, "run_episode",
                        lambda env, policy, ex: played.append((ex.example_id, policy.name)) or real(env, policy, ex))
    return played


def test_damaged_middle_line_is_warned_about_set_aside_and_recomputed(tmp_path, monkeypatch, caplog):
    _run(tmp_path)
    path = tmp_path / "run" / "records.jsonl"
    lines = path.read_text().splitlines(keepends=True)
    victim = json.loads(lines[1])
    lines[1] = lines[1][: len(lines[1]) // 2] + "\n"  # a damaged line in the middle of the file
    path.write_text("".join(lines))
    played = _count_episodes(monkeypatch)
    with caplog.at_level(logging.WARNING):
        _run(tmp_path)
    assert "1 damaged line" in caplog.text and "records.jsonl" in caplog.text
    assert played == [(victim["example_id"], victim["policy"])]
    clean = path.read_text().splitlines()
    assert len(clean) == len(lines) and all(json.loads(line) for line in clean)
    assert (tmp_path / "run" / "records.jsonl.damaged").read_text() == lines[1]


def test_torn_config_json_is_one_line_naming_the_file(tmp_path, capsys):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "config.json").write_text('{"data": "mixed:val", "se')
    with pytest.raises(AdactxError, match="config.json: torn or damaged run config"):
        _run(tmp_path)


class _DiesHalfway(io.RawIOBase):
    """A file whose process 'dies' (KeyboardInterrupt) after writing half of what it was given."""

    def __init__(self, inner):
        self.inner = inner

    def write(self, data):
        self.inner.write(data[: len(data) // 2])
        self.inner.flush()
        raise KeyboardInterrupt("killed mid-write")

    def __getattr__(self, name):
        return getattr(self.inner, name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.inner.close()


def test_a_crash_while_writing_config_json_leaves_the_old_one_whole(tmp_path, monkeypatch):
    _run(tmp_path)
    config = tmp_path / "run" / "config.json"
    before = config.read_text()
    real_open = io.open

    def dying_open(file, mode="r", *args, **kw):
        handle = real_open(file, mode, *args, **kw)
        return _DiesHalfway(handle) if "w" in mode and "config.json" in str(file) else handle

    monkeypatch.setattr(io, "open", dying_open)
    monkeypatch.setattr(builtins, "open", dying_open)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, n=3)
    monkeypatch.undo()
    assert json.loads(config.read_text()) == json.loads(before)


def test_memo_lookups_survive_a_crash_mid_example(tmp_path, monkeypatch):
    seen = {"hits": 0, "misses": 0, "puts": 0}
    real_get, real_put = OutcomeMemo.get, OutcomeMemo.put

    def get(self, key):
        row = real_get(self, key)
        seen["hits" if row is not None else "misses"] += 1
        return row

    def put(self, *args, **kw):
        seen["puts"] += 1
        if seen["puts"] == 5:  # part-way through the second example
            raise KeyboardInterrupt("killed")
        return real_put(self, *args, **kw)

    monkeypatch.setattr(OutcomeMemo, "get", get)
    monkeypatch.setattr(OutcomeMemo, "put", put)
    with pytest.raises(KeyboardInterrupt):
        _run(tmp_path, n=3)
    assert read_lookups(tmp_path / "run") == {"hits": seen["hits"], "misses": seen["misses"]}


def test_damaged_memo_is_one_line_naming_it(tmp_path):
    memo = OutcomeMemo(tmp_path / "memo.sqlite")
    for i in range(400):
        memo.put(f"k{i}", "m", "", "s", 3, {"text": "x" * 200, "i": i})
    memo.close()
    for suffix in ("-wal", "-shm"):
        (tmp_path / f"memo.sqlite{suffix}").unlink(missing_ok=True)
    data = bytearray((tmp_path / "memo.sqlite").read_bytes())
    for offset in range(4096 * 2, len(data), 5):
        data[offset] = 0x5A
    (tmp_path / "memo.sqlite").write_bytes(bytes(data))
    with pytest.raises(AdactxError, match=r"memo.sqlite: memo database is damaged .* --memo"):
        _run(tmp_path)


def test_unknown_data_set_fails_before_the_run_directory_or_the_reader(tmp_path, capsys):
    out = tmp_path / "run"
    line = one_error_line(*run_cli(capsys, "eval", "--data", "nosuchset", "--out", out,
                                   "--model", tmp_path / "no-model-here"))
    assert "nosuchset" in line and not out.exists()
    line = one_error_line(*run_cli(capsys, "eval", "--data", "qmsum:nosplit", "--out", out))
    assert "nosplit" in line and not out.exists()
