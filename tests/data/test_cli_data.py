"""`adactx data list|show|stats` (the tokenizer is the tiny test one: no model loading)."""

import pytest
from helpers import tiny_tokenizer
from typer.testing import CliRunner

from adactx.cli import app, main


@pytest.fixture(autouse=True)
def tiny_reader_tokenizer(monkeypatch):
    monkeypatch.setattr("adactx.reader.load_tokenizer", lambda *a, **k: tiny_tokenizer())


def run(*args):
    result = CliRunner().invoke(app, ["data", *args], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    return result.output


def test_help_names_the_commands():
    out = run("--help")
    assert all(cmd in out for cmd in ("list", "show", "stats"))
    assert "--n" in run("show", "--help")


def test_list_shows_sets_splits_counts(shared_data):
    out = run("list")
    assert "qmsum" in out and "train: 1257" in out and "test: 281" in out and "dev: 125" in out
    assert "mixed" in out and "generated" in out and "not provided" in out


def test_show_prints_tokens_query_reference_and_evidence(shared_data):
    out = run("show", "qmsum:val", "--n", "2", "--seed", "1")
    assert out.count("qmsum-val-") == 2 and out.count("doc tokens") == 2 and "of the document (1 span" in out
    assert out.count("query ") == 2 and out.count("reference ") == 2
    out = run("show", "bamboo-paperqa-4k", "--n", "1")
    assert "A. " in out and "bamboo-paperqa_4k-" in out


def test_stats_writes_histograms(shared_data, tmp_path):
    out = run("stats", "--sets", "qmsum:val,bamboo-altqa-4k", "--out", str(tmp_path), "--n", "20")
    assert "qmsum:val" in out and {"evidence", "share", "median", "tokens"} <= set(out.split())
    for name in ("data_doc_lengths.png", "data_evidence_positions.png"):
        assert (tmp_path / name).read_bytes()[:4] == b"\x89PNG"


def test_unknown_set_is_one_line_and_exit_2(capsys):
    with pytest.raises(SystemExit) as exit_info:
        main(["data", "show", "nope"])
    assert exit_info.value.code == 2
    assert "unknown data set 'nope'" in capsys.readouterr().err
