"""The CLI end to end with a tiny model directory and the hashing encoder; help texts; bad input."""

import json

import pytest
from helpers import save_tiny_model

from adactx.cli import main

DOC = "\n\n".join(
    f"Part {i}. The committee discussed the {t}. The {t} was approved after a long debate about cost."
    for i, t in enumerate(["budget", "schedule", "buttons", "battery", "colour", "price", "launch", "testing"])
)


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture()
def doc_file(tmp_path):
    path = tmp_path / "doc.txt"
    path.write_text(DOC)
    return path


@pytest.fixture(autouse=True)
def wide_terminal(monkeypatch):
    monkeypatch.setenv("COLUMNS", "200")  # Rich tables would elide cells on a narrow captured terminal


def run_cli(capsys, *args):
    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exit_info.value.code or 0, out.out, out.err


def tiny_opts(model_dir, tmp_path):
    return ["--model", model_dir, "--encoder", "hashing", "--db", tmp_path / "s.sqlite", "--chunk-tokens", 32]


def test_help_teaches(capsys):
    code, out, _ = run_cli(capsys, "--help")
    assert code == 0
    for command in ("ask", "summarize", "trace", "data", "train", "eval"):
        assert command in out
    code, out, _ = run_cli(capsys, "ask", "--help")
    assert "topk-K" in out and "--budget" in out and "adactx ask meeting.txt" in out


def test_ask_then_trace_list_and_show(capsys, model_dir, doc_file, tmp_path, tmp_cache):
    opts = tiny_opts(model_dir, tmp_path)
    code, out, err = run_cli(capsys, "ask", doc_file, "What about the battery?", "--policy", "topk-2",
                             "--budget", 200, *opts)
    assert code == 0, err
    assert "run id:" in out and "document tokens" in out
    run_id = out.split("run id:")[1].split()[0]
    code, out, _ = run_cli(capsys, "trace", "list", "--db", tmp_path / "s.sqlite", "--json")
    rows = [json.loads(line) for line in out.splitlines()]
    assert rows[0]["session_id"] == run_id and rows[0]["policy"] == "topk-2"
    code, out, _ = run_cli(capsys, "trace", "show", run_id, "--db", tmp_path / "s.sqlite")
    assert code == 0 and "retrieve" in out and "answer" in out, out
    code, out, _ = run_cli(capsys, "trace", "show", run_id, "--db", tmp_path / "s.sqlite", "--json")
    trace = json.loads(out)["results"][0]
    assert [s["action"] for s in trace["steps"]] == ["retrieve", "answer"]
    assert trace["usage"]["tokens_computed"] > 0


def test_summarize_is_hierarchical(capsys, model_dir, doc_file, tmp_path, tmp_cache):
    code, out, err = run_cli(capsys, "summarize", doc_file, "--model", model_dir, "--db", tmp_path / "s.sqlite")
    assert code == 0, err
    assert "summarize" in out


def _write(tmp_path, name, data: bytes):
    path = tmp_path / name
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "case,expected",
    [
        ("missing", "not found"),
        ("empty", "empty"),
        ("binary", "binary"),
        ("latin1", "UTF-8"),
        ("empty-question", "empty question"),
        ("low-budget", "below the minimum"),
        ("bad-policy", "unknown policy"),
        ("corrupt-index", "index"),
        ("unknown-run", "unknown run id"),
    ],
)
def test_bad_input_is_one_clean_line(capsys, model_dir, doc_file, tmp_path, tmp_cache, case, expected):
    opts = tiny_opts(model_dir, tmp_path)
    args = {
        "missing": ["ask", tmp_path / "nope.txt", "q?", *opts],
        "empty": ["ask", _write(tmp_path, "e.txt", b"  \n"), "q?", *opts],
        "binary": ["ask", _write(tmp_path, "b.txt", b"\x00\x01\x02PK\x03\x04" * 50), "q?", *opts],
        "latin1": ["ask", _write(tmp_path, "l.txt", "caf\u00e9 cr\u00e8me".encode("latin-1")), "q?", *opts],
        "empty-question": ["ask", doc_file, "  ", *opts],
        "low-budget": ["ask", doc_file, "q?", "--budget", 10, *opts],
        "bad-policy": ["ask", doc_file, "q?", "--policy", "psychic", *opts],
        "unknown-run": ["trace", "show", "deadbeef", "--db", tmp_path / "s.sqlite"],
    }.get(case)
    if case == "corrupt-index":
        index_dir = tmp_path / "idx"
        code = run_cli(capsys, "index", doc_file, "--out", index_dir, "--encoder", "hashing", "--model", model_dir,
                       "--chunk-tokens", 32)[0]
        assert code == 0
        victim = next(p for p in sorted(index_dir.rglob("*")) if p.is_file() and p.suffix in (".faiss", ".npy"))
        victim.write_bytes(victim.read_bytes()[:20])
        args = ["ask", doc_file, "q?", "--index-dir", index_dir, *opts]
    code, out, err = run_cli(capsys, *args)
    assert code == 2
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert expected.lower() in lines[0].lower()
    assert "Traceback" not in err + out


def test_python_cli_py_is_the_same_app():
    import subprocess
    import sys

    from helpers import ROOT

    out = subprocess.run([sys.executable, "cli.py", "trace", "--help"], cwd=ROOT, capture_output=True, text=True,
                         env={"COLUMNS": "200", "PATH": ""}, check=True).stdout
    assert "List, inspect and resume persisted sessions" in out and "resume" in out


def test_reader_options_fail_before_anything_loads(tmp_path):
    """--reader openai without --base-url, and an unknown --device, are one-line errors."""
    from typer.testing import CliRunner

    from adactx.cli import app
    from adactx.errors import AdactxError

    doc = tmp_path / "d.txt"
    doc.write_text("The meeting discussed the budget.")
    for args, message in [
        (["--reader", "openai", "--model", "m"], "--base-url"),
        (["--reader", "openai", "--base-url", "ftp://x"], "--model NAME"),
        (["--device", "tpu"], "--device tpu"),
        (["--reader", "vllm"], "ReaderSpec.kind"),
    ]:
        result = CliRunner().invoke(app, ["ask", str(doc), "Q?", *args])
        assert isinstance(result.exception, AdactxError), args
        assert message in str(result.exception), (args, result.exception)
    help_text = CliRunner().invoke(app, ["ask", "--help"], env={"COLUMNS": "200"}).output
    for flag in ("--reader", "--base-url", "--device", "--dtype", "--tokenizer"):
        assert flag in help_text
    eval_help = CliRunner().invoke(app, ["eval", "--help"], env={"COLUMNS": "200"}).output
    for flag in ("--fields", "--reader", "--base-url", "--device", ".jsonl"):
        assert flag in eval_help
    train_help = CliRunner().invoke(app, ["train", "longlora", "--help"], env={"COLUMNS": "200"}).output
    assert "--device" in train_help
