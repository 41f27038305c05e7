"""Perplexity and passkey evaluations: exactness of the shortcuts, and the CLI commands."""

from __future__ import annotations

import json
import math

import pytest
import torch
from adactx.kernels.evaluate import greedy_match, perplexity_at_lengths, window_token_nll


@pytest.fixture(scope="module")
def tiny():
    from helpers import tiny_llama

    return tiny_llama(max_position_embeddings=128)


def test_shared_prefix_windows_equal_separate_windows(tiny):
    tokens = torch.randint(0, 300, (100,))
    results = perplexity_at_lengths(tiny, tokens, [16, 40], stride=20, max_windows=3)
    for r in results:
        separate = [
            float(window_token_nll(tiny, tokens[o : o + r.length][None])[0].double().mean()) for o in (0, 20, 40)
        ]
        assert r.windows == 3 and r.tokens_scored == 3 * (r.length - 1)
        assert r.mean_nll == pytest.approx(sum(separate) / 3, rel=1e-5)
        assert r.perplexity == pytest.approx(math.exp(r.mean_nll))


def test_more_windows_for_shorter_lengths_without_a_cap(tiny):
    results = perplexity_at_lengths(tiny, torch.randint(0, 300, (64,)), [16, 64], stride=16)
    assert [r.windows for r in results] == [4, 1]


def test_greedy_match_equals_greedy_decoding(tiny):
    prompt = torch.randint(0, 300, (1, 20))
    generated = tiny.generate(prompt, max_new_tokens=5, do_sample=False)[0, 20:].tolist()
    predicted, ok = greedy_match(tiny, prompt[0].tolist(), generated)
    assert ok and predicted == generated
    wrong = [(generated[0] + 1) % 300] + generated[1:]
    assert not greedy_match(tiny, prompt[0].tolist(), wrong)[1]
    late = generated[:3] + [(generated[3] + 1) % 300, generated[4]]
    assert not greedy_match(tiny, prompt[0].tolist(), late)[1]


@pytest.fixture()
def tiny_dir(tmp_path):
    from helpers import save_tiny_model

    return save_tiny_model(tmp_path / "tiny", max_context=256)


def test_cli_perplexity_and_passkey(tiny_dir, tmp_path):
    from helpers import CORPUS
    from typer.testing import CliRunner

    from adactx.cli import app

    text = tmp_path / "t.txt"
    text.write_text(" ".join(CORPUS * 20))
    runner = CliRunner()
    out = tmp_path / "ppl.json"
    result = runner.invoke(app, ["eval", "perplexity", "--model", str(tiny_dir), "--data", str(text),
                                 "--lengths", "64,128", "--windows", "stream", "--stride", "32", "--max-windows", "2",
                                 "--rope-factor", "2", "--dtype", "float32", "--out", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads(out.read_text())
    assert saved["settings"]["rope_factor"] == 2.0 and [r["length"] for r in saved["results"]] == [64, 128]
    assert saved["settings"]["windows"] == "stream" and "perplexity" in result.output
    out = tmp_path / "pk.json"
    result = runner.invoke(app, ["eval", "passkey", "--model", str(tiny_dir), "--lengths", "200",
                                 "--trials", "2", "--dtype", "float32", "--out", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads(out.read_text())
    assert saved["results"][0]["trials"] == 2 and len(saved["trials"]) == 2
    assert all(t["key"].isdigit() for t in saved["trials"])
    bad = runner.invoke(app, ["eval", "passkey", "--lengths", "a,b"])
    assert bad.exit_code != 0


def test_segment_nll_is_the_added_tokens_mean(tiny):
    from adactx.kernels.evaluate import segment_nll

    tokens = torch.randint(0, 300, (48,))
    short, long = perplexity_at_lengths(tiny, tokens, [16, 48], stride=48)
    nll = window_token_nll(tiny, tokens[None])[0].double()
    assert segment_nll(short, long) == pytest.approx(float(nll[15:47].mean()), rel=1e-5)


def test_cli_help_texts():
    from typer.testing import CliRunner

    from adactx.cli import app

    runner = CliRunner()
    ppl = runner.invoke(app, ["eval", "perplexity", "--help"]).output
    assert all(opt in ppl for opt in ("--lengths", "--stride", "--max-windows", "--adapter", "--rope-factor"))
    pk = runner.invoke(app, ["eval", "passkey", "--help"]).output
    assert all(opt in pk for opt in ("--lengths", "--trials", "--seed", "--out"))


def test_user_errors_are_one_line(capsys):
    from adactx.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main(["eval", "passkey", "--lengths", "a,b"])
    assert exit_info.value.code == 2
    assert "--lengths a,b" in capsys.readouterr().err


def test_document_windows_stay_inside_one_document_and_cover_the_stream():
    from adactx.kernels.evaluate import document_windows

    lengths = [50, 300, 10, 400, 120, 500, 90, 250]
    windows = document_windows(lengths, 100, 4, seed=3)
    eligible = [i for i, n in enumerate(lengths) if n >= 100]  # 1, 3, 4, 5, 7
    assert len(windows) == 4 and all(0 <= o <= lengths[d] - 100 for d, o in windows)
    assert all(d in eligible for d, _ in windows)
    assert windows[0][0] in eligible[:2] and windows[-1][0] in eligible[-2:]  # strata run over the whole stream
    assert windows == document_windows(lengths, 100, 4, seed=3) != document_windows(lengths, 100, 4, seed=4)
    many = document_windows(lengths, 100, 12, seed=0)
    assert {d for d, _ in many} == set(eligible) and len(set(many)) > len(eligible)
    with pytest.raises(ValueError, match="no document has 600 tokens"):
        document_windows(lengths, 600, 2)


def test_document_perplexity_scores_prefixes_of_the_drawn_windows(tiny):
    from adactx.kernels.evaluate import document_perplexity

    docs = [torch.randint(0, 300, (n,)).tolist() for n in (30, 90, 20, 120)]
    results, windows = document_perplexity(tiny, docs, [24, 60], n_windows=3, seed=1)
    assert {d for d, _ in windows} <= {1, 3}
    for r in results:
        separate = [float(window_token_nll(tiny, torch.tensor([docs[d][o : o + r.length]]))[0].double().mean())
                    for d, o in windows]
        assert r.windows == 3 and r.tokens_scored == 3 * (r.length - 1)
        assert r.mean_nll == pytest.approx(sum(separate) / 3, rel=1e-5)


def test_cli_perplexity_draws_windows_from_documents(tiny_dir, tmp_path):
    from helpers import CORPUS
    from typer.testing import CliRunner

    from adactx.cli import app

    data = tmp_path / "docs.jsonl"
    texts = ["a short note", " ".join(CORPUS * 12), "another one", " ".join(CORPUS * 15)]
    data.write_text("\n".join(json.dumps({"text": t}) for t in texts) + "\n")
    out = tmp_path / "ppl.json"
    result = CliRunner().invoke(app, ["eval", "perplexity", "--model", str(tiny_dir), "--data", str(data),
                                      "--lengths", "32,96", "--max-windows", "3", "--dtype", "float32",
                                      "--out", str(out)])
    assert result.exit_code == 0, result.output
    settings = json.loads(out.read_text())["settings"]
    assert settings["windows"] == "documents" and settings["documents"] == 4
    assert len(settings["drawn"]) == 3 and {d for d, _ in settings["drawn"]} <= {1, 3}
    too_long = CliRunner().invoke(app, ["eval", "perplexity", "--model", str(tiny_dir), "--data", str(data),
                                        "--lengths", "100000", "--dtype", "float32"])
    assert too_long.exit_code != 0 and "no document has 100000 tokens" in str(too_long.exception)
