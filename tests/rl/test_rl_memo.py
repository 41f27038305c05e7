"""The memo: exact accounting against a real session, no recomputation on a repeat, crash survival."""

import subprocess
import sys
import textwrap

import pytest
from adactx.rl.memo import MemoReader, OutcomeMemo, outcome_key
from helpers import open_at_once, tiny_reader

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


def _outputs(reader_like):
    gens = []
    _play(reader_like.session("What about the budget?"), gens)
    return [(g.text, g.token_ids, round(g.mean_logprob, 5)) for g in gens]


def _tiny(seed: int, **overrides):
    """A tiny reader named "tiny" whose greedy outputs depend on its seed (wide init)."""
    from helpers import tiny_llama, tiny_tokenizer

    from adactx.reader import HFReader

    return HFReader(tiny_llama(seed=seed, initializer_range=0.5, **overrides), tiny_tokenizer(), name="tiny")


def test_two_same_named_models_never_share_an_outcome(tmp_path):
    """#11 item 6: the key is the weights' content, not the model's name."""
    first, second = _tiny(0), _tiny(1)
    assert first.name == second.name
    memo = OutcomeMemo(tmp_path / "memo.sqlite")
    assert _outputs(MemoReader(first, memo)) == _outputs(first)
    hits = memo.hits
    assert _outputs(MemoReader(second, memo)) == _outputs(second) != _outputs(first)
    assert memo.hits == hits  # the second model found nothing of the first's


def test_a_checkpoint_rewritten_in_place_is_a_new_reader(tmp_path, monkeypatch):
    """Same directory, same name, new weights (a retrained model saved over the old one)."""
    from helpers import tiny_llama, tiny_tokenizer

    from adactx.reader import load_reader

    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path / "cache"))
    model_dir = tmp_path / "model"
    tiny_tokenizer().save_pretrained(model_dir)
    memo = OutcomeMemo(tmp_path / "memo.sqlite")
    outputs, keys = [], []
    for seed in (0, 1):
        tiny_llama(seed=seed, initializer_range=0.5).save_pretrained(model_dir, safe_serialization=True)
        reader = load_reader(str(model_dir), dtype="float32")
        memo_reader = MemoReader(reader, memo)
        outputs.append(_outputs(memo_reader))
        assert outputs[-1] == _outputs(reader)
        keys.append(memo_reader.model_key)
    assert keys[0] != keys[1] and outputs[0] != outputs[1]
    assert MemoReader(load_reader(str(model_dir), dtype="float32"), memo).model_key == keys[1]


def test_identity_covers_dtype_rope_attention_template_and_adapter(tmp_path, monkeypatch):
    import shutil

    import torch
    from adactx.rl.memo import reader_identity

    from adactx.errors import AdactxError
    from adactx.fingerprint import adapter_fingerprint
    from adactx.reader import SYSTEM_PROMPT

    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path / "cache"))
    reader = tiny_reader()
    base = reader_identity(reader)
    assert reader_identity(reader) == base and set(base["versions"]) == {"adactx", "transformers", "torch"}
    reader.model.config.rope_parameters = {"rope_type": "linear", "factor": 2.0, "rope_theta": 10000.0}
    assert reader_identity(reader)["rope"] != base["rope"]
    reader.model.config._attn_implementation = "eager"
    assert reader_identity(reader)["attention"] != base["attention"]
    reader._head_tail = (SYSTEM_PROMPT + " Be terse.", "\nAnswer:")
    assert reader_identity(reader)["template"] != base["template"]
    reader.model.to(torch.bfloat16)
    changed = reader_identity(reader)
    assert changed["dtype"] != base["dtype"] and changed["weights"] != base["weights"]

    adapter = tmp_path / "adapter"
    (adapter / "sub").mkdir(parents=True)
    (adapter / "adapter_config.json").write_text('{"r": 8}')
    (adapter / "sub" / "adapter_model.safetensors").write_bytes(b"\x00" * 64)
    fingerprint = adapter_fingerprint(adapter)
    shutil.copytree(adapter, tmp_path / "elsewhere")
    assert adapter_fingerprint(tmp_path / "elsewhere") == fingerprint  # content, not location
    assert reader_identity(reader, adapter)["adapter"] == fingerprint
    (adapter / "sub" / "adapter_model.safetensors").write_bytes(b"\x00" * 63 + b"\x01")
    assert adapter_fingerprint(adapter) != fingerprint
    with pytest.raises(AdactxError, match="no such adapter"):
        adapter_fingerprint(tmp_path / "missing")


def test_processes_opening_a_new_memo_at_once_all_get_it(tmp_path):
    """Four processes opening a new memo at once (eval workers on an empty cache): before the fix about 1
    trial in 10 had one fail with "database is locked" (SQLite refuses the switch to WAL at once instead
    of waiting), which CI met once as a failed `--workers 2` test."""
    paths = [str(tmp_path / f"memo{trial}.sqlite") for trial in range(40)]
    outcomes = open_at_once(lambda path: OutcomeMemo(path).put("k", "m", "", "s", 1, {"a": 1}), paths, procs=4)
    assert outcomes == ["ok"] * 160
