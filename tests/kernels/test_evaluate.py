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
    from helpers import tiny_llama, tiny_tokenizer

    tok = tiny_tokenizer()
    path = tmp_path / "tiny"
    tiny_llama(len(tok), max_position_embeddings=256).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def test_cli_perplexity_and_passkey(tiny_dir, tmp_path):
    from helpers import CORPUS
    from typer.testing import CliRunner

    from adactx.cli import app

    text = tmp_path / "t.txt"
    text.write_text(" ".join(CORPUS * 20))
    runner = CliRunner()
    out = tmp_path / "ppl.json"
    result = runner.invoke(app, ["eval", "perplexity", "--model", str(tiny_dir), "--data", str(text),
                                 "--lengths", "64,128", "--stride", "32", "--max-windows", "2",
                                 "--rope-factor", "2", "--dtype", "float32", "--out", str(out)])
    assert result.exit_code == 0, result.output
    saved = json.loads(out.read_text())
    assert saved["settings"]["rope_factor"] == 2.0 and [r["length"] for r in saved["results"]] == [64, 128]
    assert "perplexity" in result.output
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
