"""`--threads` on ask, summarize and eval: applied to torch before any work, validated first."""

import pytest
import torch
from helpers import one_error_line, run_cli, save_tiny_model

from adactx.threads import DEFAULT_THREADS, set_threads


@pytest.fixture(autouse=True)
def restore_threads():
    before = torch.get_num_threads()
    yield
    torch.set_num_threads(before)


def test_set_threads_applies_and_defaults():
    assert set_threads(3) == 3 == torch.get_num_threads()
    assert set_threads(None) == DEFAULT_THREADS
    torch.set_num_threads(2)
    assert set_threads(0) == 2  # 0 leaves torch's own setting


def test_ask_applies_threads(tmp_path, capsys, tmp_cache):
    model = save_tiny_model(tmp_path / "m")
    doc = tmp_path / "doc.txt"
    doc.write_text("The budget was approved after a long debate. The price is twelve euros.")
    code, _, err = run_cli(capsys, "ask", doc, "What is the price?", "--model", model, "--encoder", "hashing",
                           "--threads", 3, "--db", tmp_path / "s.sqlite")
    assert code == 0, err
    assert torch.get_num_threads() == 3


@pytest.mark.parametrize("command", [["ask", "doc.txt", "q?"], ["summarize", "doc.txt"], ["eval"]])
def test_bad_threads_is_one_line_before_any_work(tmp_path, capsys, monkeypatch, command):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "doc.txt").write_text("Some text.")
    line = one_error_line(*run_cli(capsys, *command, "--threads", -1, "--model", tmp_path / "no-model",
                                   *(["--out", tmp_path / "run"] if command == ["eval"] else [])))
    assert "--threads -1" in line and not (tmp_path / "run").exists()


def test_help_says_what_threads_does(capsys, monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")
    for command in (["ask"], ["summarize"], ["eval"]):
        code, out, _ = run_cli(capsys, *command, "--help")
        assert code == 0 and "--threads" in out and "torch" in out
