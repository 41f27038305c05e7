"""SFT data: train splits only, contexts the controller would build, evidence present or abstain."""

from __future__ import annotations

import itertools
import json

import pytest
from helpers import tiny_tokenizer

from adactx.data.sft import (
    NOT_IN_CONTEXT,
    SFTDataConfig,
    build_record,
    build_sft_records,
    chunk_spans,
    split_instruction,
)
from adactx.errors import AdactxError


def test_chunks_tile_the_text_and_end_at_sentences():
    tok = tiny_tokenizer()
    text = " ".join(f"Sentence number {i} talks about the budget." for i in range(60))
    spans = chunk_spans(text, tok, 32)
    assert spans[0][0] == 0 and spans[-1][1] == len(text)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(spans))  # contiguous, nothing lost
    assert all(text[e - 1] in ".\n" or text[e - 2 : e] == ". " for _, e in spans[:-1])


def test_mixed_records_hold_all_evidence_or_abstain(shared_data):
    tok = tiny_tokenizer()
    cfg = SFTDataConfig(sources=("mixed:train",), weights=(1.0,), max_context_tokens=1500, absent_fraction=0.3)
    records = build_sft_records(cfg, tok, n=12, seed=3)
    modes = {r.meta["mode"] for r in records}
    assert "absent" in modes and "gold" in modes
    for r in records:
        assert r.meta["example_id"].startswith("mixed-train-") and r.task == "qa"
        assert all(p.startswith("\n") for p in r.pieces) and len(r.gold) == len(r.pieces)
        if r.meta["mode"] == "absent":
            assert r.answer == NOT_IN_CONTEXT and not any(r.gold)
        else:
            assert r.answer != NOT_IN_CONTEXT and any(r.gold)
    again = build_sft_records(cfg, tok, n=12, seed=3)
    assert [r.to_dict() for r in again] == [r.to_dict() for r in records]  # a pure function of (seed, i)


def test_summary_records_come_from_train_splits(shared_data):
    tok = tiny_tokenizer()
    for source in ("qmsum:train", "squality:train"):
        cfg = SFTDataConfig(sources=(source,), weights=(1.0,), max_context_tokens=1200)
        r = build_record(cfg, tok, seed=0, index=1)
        assert r.task == "query_summary" and r.source == source and r.pieces and len(r.answer.split()) > 5
        assert f"-{'train'}-" in r.meta["example_id"]
        assert r.meta["context_tokens"] <= 1200 or r.meta["mode"] == "gold"  # gold turns may exceed it


def test_longalpaca_from_a_local_file(tmp_path):
    tok = tiny_tokenizer()
    path = tmp_path / "la.json"
    material = " ".join(f"Paper sentence {i} about budgets." for i in range(80))
    path.write_text(json.dumps([{"instruction": f"Read this. {material} Now the material ends. What is it about?",
                                 "output": "Budgets."}]))
    cfg = SFTDataConfig(sources=("longalpaca",), weights=(1.0,), longalpaca_file=str(path),
                        chunk_tokens=64, min_context_tokens=100, max_context_tokens=200)
    r = build_record(cfg, tok, seed=0, index=0)
    assert r.question == "What is it about?" and r.answer == "Budgets." and r.task == "qa"
    assert r.pieces[0].startswith("\nRead this.") and r.meta["context_tokens"] <= 200
    assert split_instruction("Some text\nWhat now?") == ("Some text", "What now?")


def test_config_errors_name_the_field(tmp_path):
    with pytest.raises(AdactxError, match="^sources"):
        SFTDataConfig(sources=("qmsum:val",), weights=(1.0,))
    with pytest.raises(AdactxError, match="^weights"):
        SFTDataConfig(weights=(1.0,))
    with pytest.raises(AdactxError, match="^longalpaca_file"):
        SFTDataConfig(sources=("longalpaca",), weights=(1.0,))
    bad = tmp_path / "bad.json"
    bad.write_text('{"not": "a list"}')
    cfg = SFTDataConfig(sources=("longalpaca",), weights=(1.0,), longalpaca_file=str(bad))
    with pytest.raises(AdactxError, match="^longalpaca_file"):
        build_record(cfg, tiny_tokenizer(), seed=0, index=0)
