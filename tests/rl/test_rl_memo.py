"""The memo: exact accounting against a real session, no recomputation on a repeat, crash survival."""

import subprocess
import sys
import textwrap

from adactx.rl.memo import MemoReader, OutcomeMemo, outcome_key
from helpers import tiny_reader

TEXTS = ["The meeting discussed the budget.", " The sky is blue.", " Paul Graham writes essays."]


def _play(session, gens):
    for text in TEXTS:
        session.append(text)
        gens.append(session.draft(3))
    gens.append(session.answer(5))
    gens.append(session.generate(0))


def test_memo_session_reports_exactly_what_the_real_session_reports(tmp_path):
    reader = tiny_reader()
    memo_reader = MemoReader(reader, OutcomeMemo(tmp_path / "memo.sqlite"))
    for attempt in range(2):  # a miss, then all hits: identical outputs and accounting either way
        real_gens, memo_gens = [], []
        real, fake = reader.session("What about the budget?"), memo_reader.session("What about the budget?")
        _play(real, real_gens)
        _play(fake, memo_gens)
        for a, b in zip(real_gens, memo_gens):
            assert (a.text, a.token_ids, a.usage) == (b.text, b.token_ids, b.usage)
            assert a.mean_logprob == b.mean_logprob or (a.mean_logprob != a.mean_logprob)
        assert real.usage == fake.usage
        assert real.context_ids == fake.context_ids
    stats = memo_reader.memo.stats()
    assert stats["misses"] == 5 and stats["hits"] == 5 and stats["hit_rate"] == 0.5


def test_a_repeated_rollout_reads_nothing_twice(tmp_path, monkeypatch):
    reader = tiny_reader()
    memo_reader = MemoReader(reader, OutcomeMemo(tmp_path / "memo.sqlite"))
    _play(memo_reader.session("q"), [])
    calls = []
    monkeypatch.setattr(memo_reader, "compute", lambda *a, **k: calls.append(a))
    gens = []
    _play(memo_reader.session("q"), gens)
    assert calls == [] and len(gens) == 5


def test_key_covers_model_adapter_settings_and_context():
    base = outcome_key("m", "", "greedy;max_new_tokens=4", [1, 2, 3], [9])
    assert base != outcome_key("m2", "", "greedy;max_new_tokens=4", [1, 2, 3], [9])
    assert base != outcome_key("m", "lora", "greedy;max_new_tokens=4", [1, 2, 3], [9])
    assert base != outcome_key("m", "", "greedy;max_new_tokens=5", [1, 2, 3], [9])
    assert base != outcome_key("m", "", "greedy;max_new_tokens=4", [1, 2, 4], [9])
    assert base == outcome_key("m", "", "greedy;max_new_tokens=4", [1, 2, 3], [9])


def test_memo_survives_a_crash(tmp_path):
    path = tmp_path / "memo.sqlite"
    script = textwrap.dedent(f"""
        import os
        from adactx.rl.memo import OutcomeMemo
        memo = OutcomeMemo({str(path)!r})
        for i in range(3):
            memo.put(f"k{{i}}", "m", "", "s", i, {{"text": str(i)}})
        os._exit(1)  # no close, no clean shutdown
    """)
    result = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=False)
    assert result.returncode == 1, result.stderr
    memo = OutcomeMemo(path)
    assert len(memo) == 3 and memo.get("k2") == {"text": "2"}
