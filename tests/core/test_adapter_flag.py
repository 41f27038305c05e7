"""`--adapter DIR` reaches the reader from `adactx ask`, `adactx eval` and `ContextManager(adapter=...)`."""

from __future__ import annotations

import sqlite3

import pytest
import torch
from helpers import save_tiny_model

from adactx.cli import main

DOC = "\n\n".join(f"Part {i}. The committee discussed the {t}. The {t} was approved." for i, t in
                  enumerate(["budget", "schedule", "buttons", "battery", "colour", "price"]))


@pytest.fixture(scope="module")
def model_dir(tmp_path_factory):
    return save_tiny_model(tmp_path_factory.mktemp("tiny-model"))


@pytest.fixture(scope="module")
def adapter_dir(model_dir, tmp_path_factory):
    """A LoRA adapter whose B matrices are far from zero, so it changes what the reader says."""
    from peft import LoraConfig, get_peft_model
    from transformers import AutoModelForCausalLM

    model = get_peft_model(AutoModelForCausalLM.from_pretrained(model_dir),
                           LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj", "o_proj"]))
    torch.manual_seed(1)
    with torch.no_grad():
        for name, p in model.named_parameters():
            if "lora_" in name:
                p.normal_(0, 1.0)
    path = tmp_path_factory.mktemp("adapter")
    model.save_pretrained(path, safe_serialization=True)
    return path


def _cli(capsys, *args):
    with pytest.raises(SystemExit) as info:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return info.value.code or 0, out.out, out.err


def _answer(capsys, out: str, db) -> tuple:
    """The run's answer and its steps' confidences, as saved (the run id is the output's first line)."""
    import json

    run_id = out.split("run id:")[1].split()[0]
    _, shown, _ = _cli(capsys, "trace", "show", run_id, "--db", db, "--json")
    (trace,) = json.loads(shown)["results"]
    return trace["answer"], [step["confidence"] for step in trace["steps"]]


def test_ask_uses_the_adapter(capsys, model_dir, adapter_dir, tmp_path, tmp_cache):
    doc = tmp_path / "doc.txt"
    doc.write_text(DOC)
    opts = ["--model", model_dir, "--encoder", "hashing", "--db", tmp_path / "s.sqlite", "--chunk-tokens", 32,
            "--policy", "topk-2", "--budget", 128]
    code, plain, err = _cli(capsys, "ask", doc, "What about the battery?", *opts)
    assert code == 0, err
    code, adapted, err = _cli(capsys, "ask", doc, "What about the battery?", *opts, "--adapter", adapter_dir)
    assert code == 0, err
    assert _answer(capsys, plain, tmp_path / "s.sqlite") != _answer(capsys, adapted, tmp_path / "s.sqlite")
    code, _, err = _cli(capsys, "ask", doc, "What about the battery?", *opts, "--adapter", tmp_path / "none")
    assert code != 0 and "--adapter" in err and "adapter_config.json" in err


def test_context_manager_loads_the_adapter_merged(model_dir, adapter_dir):
    from adactx.api import ContextManager

    reader = ContextManager(model=str(model_dir), adapter=str(adapter_dir), encoder="hashing")._reader()
    assert reader.name.endswith(str(adapter_dir))
    assert not any("lora" in n for n, _ in reader.model.named_parameters())
    plain = ContextManager(model=str(model_dir), encoder="hashing")._reader()
    ids = torch.tensor([[5, 6, 7, 8]])
    with torch.no_grad():
        assert not torch.allclose(reader.model(input_ids=ids).logits, plain.model(input_ids=ids).logits)


def test_eval_loads_the_adapter_and_keys_the_memo_on_it(model_dir, adapter_dir, tmp_path):
    from adactx.retrieval.encoders import HashingEncoder
    from adactx.rl.evaluate import EvalConfig, run_eval

    from adactx.types import Document, Example, Span

    cfg = EvalConfig(data="mixed:val", n=2, policies=("topk-2",), budget=120, chunk_tokens=24, answer_tokens=3,
                     summary_tokens=3, draft_tokens=2, encoder="hashing", n_boot=50, model=str(model_dir),
                     adapter=str(adapter_dir))
    run_eval(cfg, tmp_path / "run", encoder=HashingEncoder(), memo_path=tmp_path / "memo.sqlite",
             examples=[Example("toy", "qa", [Document("d", DOC)], "What about the battery?", ["battery"],
                               [Span(0, DOC.index("Part 3"), DOC.index("Part 4"))])])
    rows = sqlite3.connect(tmp_path / "memo.sqlite").execute("SELECT DISTINCT model, adapter FROM outcomes").fetchall()
    from adactx.fingerprint import adapter_fingerprint

    # keyed on the adapter's content (issue 11: never another model's answer), not on its path
    assert rows == [(f"{model_dir}+{adapter_dir}", adapter_fingerprint(adapter_dir))]


def test_train_features_reads_with_the_adapter(model_dir, adapter_dir, tmp_path, tmp_cache):
    """`adactx train features --adapter DIR`: the training environment's reader is the adapted one (issue 9:
    the experiments run with both readers), its memo keyed on the adapter, the policy naming it."""
    import json

    from adactx.rl.env import EnvConfig
    from adactx.rl.features_config import FeatureTrainConfig
    from adactx.rl.features_train import train_features

    from adactx.fingerprint import adapter_fingerprint

    cfg = FeatureTrainConfig(data="mixed:train", n=2, mixed_lengths=(500,), model=str(model_dir),
                             adapter=str(adapter_dir), encoder="hashing", output_dir=str(tmp_path / "run"),
                             total_timesteps=8, n_steps=8, per_device_train_batch_size=8, n_epochs=1,
                             save_steps=8, memo_path=str(tmp_path / "memo.sqlite"), report_to="none",
                             env=EnvConfig(budget=200, chunk_tokens=64, max_steps=3, answer_tokens=2,
                                           draft_tokens=2, summary_tokens=2))
    train_features(cfg, progress=False, log=lambda line: None)
    rows = sqlite3.connect(tmp_path / "memo.sqlite").execute("SELECT DISTINCT adapter FROM outcomes").fetchall()
    assert rows == [(adapter_fingerprint(adapter_dir),)]
    meta = json.loads((tmp_path / "run" / "policy" / "policy.json").read_text())
    assert meta["reader_adapter"] == str(adapter_dir)
