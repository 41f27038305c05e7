"""Size limits: an oversized document, question or budget is refused at once, before any model loads."""

import time

import pytest
from adactx.retrieval.documents import load_document
from helpers import one_error_line, run_cli

from adactx.errors import AdactxError
from adactx.limits import DOCUMENT_BYTES_ENV, InputLimits


@pytest.fixture()
def no_model(tmp_path):
    return ["--model", tmp_path / "no-model-here", "--db", tmp_path / "s.sqlite"]


def test_document_over_the_limit_fails_before_it_is_read(tmp_path, monkeypatch):
    big = tmp_path / "big.txt"
    big.write_text("The budget was approved. " * 200)  # 5 kB
    monkeypatch.setenv(DOCUMENT_BYTES_ENV, "1000")
    with pytest.raises(AdactxError, match=rf"big.txt: 0.0 MB is over the 0.001 MB document limit.*{DOCUMENT_BYTES_ENV}"):
        load_document(big)
    monkeypatch.setenv(DOCUMENT_BYTES_ENV, "100000")
    assert load_document(big).text.startswith("The budget")


def test_default_limit_refuses_a_large_file_in_well_under_a_second(tmp_path, capsys, no_model):
    big = tmp_path / "big.txt"
    with big.open("wb") as fh:  # sparse: the size is what counts, and it is checked before reading
        fh.truncate(InputLimits().max_document_bytes + 1)
    start = time.perf_counter()
    line = one_error_line(*run_cli(capsys, "ask", big, "What is it?", *no_model))
    assert "document limit" in line and time.perf_counter() - start < 5


def test_long_question_fails_before_the_reader_loads(tmp_path, capsys, no_model):
    doc = tmp_path / "doc.txt"
    doc.write_text("The budget was approved.")
    line = one_error_line(*run_cli(capsys, "ask", doc, "why " * 25_000, *no_model))
    assert "100,000 characters is over the 2,000-character limit" in line


@pytest.mark.parametrize("budget", [str(2**70), "10"])
def test_budget_out_of_range_fails_before_the_reader_loads(tmp_path, capsys, no_model, budget):
    doc = tmp_path / "doc.txt"
    doc.write_text("The budget was approved.")
    line = one_error_line(*run_cli(capsys, "ask", doc, "Why?", "--budget", budget, *no_model))
    assert f"budget {budget}:" in line


def test_help_states_the_limits(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    for command in ("ask", "summarize"):
        code, out, _ = run_cli(capsys, command, "--help")
        assert code == 0 and "2 MB" in out and DOCUMENT_BYTES_ENV in out and "10,000,000" in out


def test_eval_budget_above_the_maximum_fails_first(tmp_path, capsys):
    line = one_error_line(*run_cli(capsys, "eval", "--budget", str(2**70), "--out", tmp_path / "run"))
    assert "above the maximum" in line and not (tmp_path / "run").exists()
