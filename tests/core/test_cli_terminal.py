"""The terminal at 80 columns: whole headers, flags shown as flags, the run id first, answers streamed
as they are generated, summaries that never read more than the document, eval tables for a terminal
and markdown for a pipe. A tiny model directory and the hashing encoder: nothing is downloaded."""

import json
import re

import pytest
from helpers import save_tiny_model, tiny_tokenizer
from typer.testing import CliRunner

from adactx.cli import app

DOC = "\n\n".join(
    f"Part {i}. The committee discussed the {t}. The {t} was approved after a long debate about cost."
    for i, t in enumerate(["budget", "schedule", "buttons", "battery", "colour", "price", "launch", "testing"] * 3)
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    """A tiny model that answers with varied tokens (so there is something to stream)."""
    return save_tiny_model(tmp_path_factory.mktemp("tiny-talking-model"), initializer_range=0.2)


@pytest.fixture()
def doc_file(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text(DOC)
    return path


def cli(*args, columns=80, **env):
    result = CliRunner().invoke(app, [str(a) for a in args], env={"COLUMNS": str(columns), **env})
    assert result.exit_code == 0, (result.output, result.exception)
    return result.output


def assert_fits(out: str, width: int = 80):
    """No line is wider than the terminal (control characters take no room)."""
    from rich.cells import cell_len

    long = [line for line in out.splitlines() if cell_len("".join(c for c in line.rstrip() if c.isprintable())) > width]
    assert not long, long


def test_boolean_flags_are_shown_as_flags():
    for command in (["trace", "show"], ["trace", "list"], ["eval"], ["ask"]):
        out = cli(*command, "--help")
        assert "<bool>" not in out and "--no-json" not in out, out
    assert re.search(r"--json\s+The whole trace as JSON", cli("trace", "show", "--help"))


def test_ask_prints_the_run_id_first_and_streams_each_answer(model_dir, doc_file, tmp_path, tmp_cache):
    db = tmp_path / "s.sqlite"
    out = cli("ask", doc_file, "What about the battery?", "And the price?", "--policy", "topk-2", "--budget", 128,
              "--model", model_dir, "--encoder", "hashing", "--db", db, "--chunk-tokens", 32)
    lines = out.splitlines()
    assert lines[0].startswith("run id: ")
    run_id = lines[0].split()[2]
    saved = json.loads(cli("trace", "show", run_id, "--db", db, "--json"))["results"]
    # question 1, its answer (as streamed) and its accounting, all before question 2 starts
    q2 = lines.index("2/2 And the price?")
    first = "\n".join(lines[:q2])
    assert "1/2 What about the battery?" in first and "read 64 of" in first
    # as streamed, wrapped to 80 columns; printed again whole after its step line if the tokenizer rewrote
    # text already streamed (byte-level BPE on a random model's tokens)
    streamed = first.split("answer: ", 1)[1].split("\n   2 answer")[0]
    final = first.rsplit("answer: ", 1)[1].split("\nread ")[0].split("\n   2 answer")[0]
    assert visible(final) == visible(saved[0]["answer"]) != ""
    assert visible(streamed) == visible(final) or first.count("answer: ") == 2
    assert_fits(out)


def visible(text: str) -> str:
    """The printable characters, without spaces (the terminal wraps, rich drops control characters)."""
    return "".join(ch for ch in text if ch.isprintable() and not ch.isspace())


def test_trace_show_and_list_read_well_at_80_columns(model_dir, doc_file, tmp_path, tmp_cache):
    db = tmp_path / "s.sqlite"
    out = cli("ask", doc_file, "What about the battery?", "--policy", "threshold-0", "--budget", 256,
              "--model", model_dir, "--encoder", "hashing", "--db", db, "--chunk-tokens", 32)
    run_id = out.split()[2]
    shown = cli("trace", "show", run_id, "--db", db)
    header = next(line for line in shown.splitlines() if line.startswith("#"))
    assert header.split() == ["#", "action", "chunks", "added", "context", "computed", "reused", "gen", "conf", "secs"]
    assert "…" not in shown.split("answer:")[0] and "retrieve" in shown
    assert_fits(shown)
    listed = cli("trace", "list", "--db", db)
    assert run_id in listed and "doc.txt" in listed and "…" not in listed
    assert_fits(listed)


def test_summarize_never_reads_more_than_the_document(model_dir, doc_file, tmp_path, tmp_cache):
    out = cli("summarize", doc_file, "--model", model_dir, "--db", tmp_path / "s.sqlite")
    read, total = map(int, re.search(r"read (\d+) of (\d+) document tokens", out).groups())
    assert 0 < read <= total
    assert "Part 1:" not in out.split("answer:")[1]
    assert_fits(out)


@pytest.fixture()
def tiny_tokenizer_everywhere(monkeypatch):
    monkeypatch.setattr("adactx.reader.load_tokenizer", lambda *a, **k: tiny_tokenizer())


def test_data_show_and_stats_keep_their_headers_at_80_columns(shared_data, tiny_tokenizer_everywhere, tmp_path):
    shown = cli("data", "show", "qmsum:val", "--n", "2")
    assert shown.count("doc tokens") == 2 and "reference" in shown and "evidence" in shown
    assert_fits(shown)
    stats = cli("data", "stats", "--sets", "qmsum:val,bamboo-altqa-4k", "--out", tmp_path, "--n", "10")
    for word in ("examples", "documents", "median", "tokens", "evidence", "share", "position", "first", "last",
                 "third", "qmsum:val", "bamboo-altqa-4k"):
        assert word in stats.split(), word
    assert "…" not in stats
    assert_fits(stats)


def _eval(model_dir, tmp_path, data, **env):
    return cli("eval", "--data", data, "--policies", "topk-1,topk-2", "--n", 2, "--budget", 128, "--lambda", "0",
               "--model", model_dir, "--encoder", "hashing", "--out", tmp_path / "run", "--memo",
               tmp_path / "memo.sqlite", **env)


def test_eval_prints_the_run_directory_first_and_tables_for_the_terminal(model_dir, tmp_path, tmp_cache):
    data = tmp_path / "mine.jsonl"
    rows = [{"document": DOC, "question": f"What about part {i}?", "answers": ["approved"]} for i in range(2)]
    data.write_text("\n".join(json.dumps(r) for r in rows))
    piped = _eval(model_dir, tmp_path, data)
    assert piped.splitlines()[0] == f"run directory: {tmp_path / 'run'}"
    assert "| policy | score" in piped and "|---|" in piped  # markdown, as in summary.md
    terminal = _eval(model_dir, tmp_path, data, TTY_COMPATIBLE="1")  # a rerun resumes: no recomputation
    assert terminal.splitlines()[0] == f"run directory: {tmp_path / 'run'}"
    assert "|---|" not in terminal and "topk-2" in terminal and "policy" in terminal


def test_train_help_describes_the_commands_that_exist():
    import typer.main

    from adactx.cli import train

    commands = set(typer.main.get_command(train.app).commands)
    assert commands == {"longlora", "sft", "features", "ppo", "grpo"}
    out = cli("train", "--help")
    for name in commands:
        assert re.search(rf"│ {name}\s", out), name
        assert "--config" in cli("train", name, "--help")
    assert "LongLoRA" in out and "SFT" in out and "PPO" in out and "GRPO" in out and "resumes" in out
