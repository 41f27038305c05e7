"""`adactx train longlora`: what trains, what is saved, and resuming after a kill."""

from __future__ import annotations

import json

import pytest
import torch
from adactx.kernels.train_config import LongLoRATrainConfig

from adactx.errors import AdactxError


@pytest.fixture()
def tiny_model_dir(tmp_path):
    from helpers import save_tiny_model

    return save_tiny_model(tmp_path / "tiny", max_context=32)


@pytest.fixture()
def corpus(tmp_path):
    from helpers import CORPUS

    path = tmp_path / "corpus"
    path.mkdir()
    (path / "a.txt").write_text(" ".join(CORPUS * 30))
    meeting = {"meeting_transcripts": [{"speaker": "PM", "content": s} for s in CORPUS * 10]}
    (path / "m.json").write_text(json.dumps(meeting))
    return path


def _cfg(model_dir, corpus, out, **kw):
    base = {
        "model": str(model_dir), "data_files": [str(corpus)], "output_dir": str(out), "target_length": 64,
        "max_steps": 4, "learning_rate": 1e-2, "warmup_steps": 0, "save_steps": 2, "dtype": "float32", "seed": 0,
    }
    base.update(kw)
    return LongLoRATrainConfig(**base)


def test_config_validation_names_the_field(tmp_path):
    with pytest.raises(AdactxError, match="^target_length"):
        LongLoRATrainConfig(data_files=["x"], target_length=0)
    with pytest.raises(AdactxError, match="^attention"):
        LongLoRATrainConfig(data_files=["x"], attention="ring")
    with pytest.raises(AdactxError, match="^data_files"):
        LongLoRATrainConfig()
    bad = tmp_path / "c.toml"
    bad.write_text('data_files = ["x"]\nstepz = 3\n')
    with pytest.raises(AdactxError, match="c.toml: stepz"):
        LongLoRATrainConfig.from_file(bad)
    assert all(LongLoRATrainConfig.help().values())  # every field documents itself


def test_trains_exactly_the_longlora_parameters(tiny_model_dir, corpus, tmp_path):
    from adactx.kernels.train import build_model, train_longlora
    from safetensors.torch import load_file

    cfg = _cfg(tiny_model_dir, corpus, tmp_path / "run", max_steps=2)
    before, _, factor = build_model(cfg)
    assert factor == 2.0  # 64 tokens on a 32-position model
    before = {n: p.detach().clone() for n, p in before.named_parameters()}
    adapter = train_longlora(cfg, progress=False)
    from adactx.kernels.train import build_model as rebuild
    from adactx.kernels.train import latest_checkpoint, load_checkpoint

    after, _, _ = rebuild(cfg)
    load_checkpoint(latest_checkpoint(tmp_path / "run"), after, torch.optim.AdamW(
        [p for p in after.parameters() if p.requires_grad]))
    changed = {n for n, p in after.named_parameters() if not torch.equal(p.detach(), before[n])}
    expected_kinds = ("lora_A", "lora_B", "embed_tokens.modules_to_save", "layernorm.modules_to_save",
                      "model.norm.modules_to_save")
    trainable = {n for n, p in after.named_parameters() if p.requires_grad}
    assert changed == trainable - {n for n in trainable if "lora_A" in n} | {n for n in changed if "lora_A" in n}
    assert all(any(k in n for k in expected_kinds) for n in changed)
    assert any("lora_B" in n for n in changed) and any("embed_tokens" in n for n in changed)
    assert any("input_layernorm" in n for n in changed) and any("model.norm." in n for n in changed)
    assert not any("base_layer" in n or "lm_head" in n or "mlp" in n for n in changed)
    saved = load_file(adapter / "adapter_model.safetensors")
    assert any("lora_A" in k for k in saved) and any("embed_tokens" in k for k in saved)
    assert any("layernorm" in k for k in saved)
    assert json.loads((adapter / "longlora.json").read_text())["rope_factor"] == 2.0


def test_adapter_loads_merged_with_position_interpolation(tiny_model_dir, corpus, tmp_path):
    from adactx.kernels.lora import load_longlora_reader
    from adactx.kernels.train import build_model, train_longlora

    cfg = _cfg(tiny_model_dir, corpus, tmp_path / "run", max_steps=2)
    adapter = train_longlora(cfg, progress=False)
    peft_model, _, _ = build_model(cfg)
    peft_model.load_adapter(str(adapter), adapter_name="trained")
    peft_model.set_adapter("trained")
    reader = load_longlora_reader(str(tiny_model_dir), str(adapter), dtype="float32")
    assert reader.max_context == 64 and reader.model.config.rope_parameters["factor"] == 2.0
    assert not any("lora" in n for n, _ in reader.model.named_parameters())  # merged
    ids = torch.randint(0, 300, (1, 64))
    peft_model.eval()
    with torch.no_grad():
        expected = peft_model(input_ids=ids).logits
        got = reader.model(input_ids=ids).logits
    torch.testing.assert_close(got, expected, atol=1e-4, rtol=1e-4)


def test_killed_run_resumes_from_last_checkpoint(tiny_model_dir, corpus, tmp_path):
    from adactx.kernels.train import train_longlora
    from safetensors.torch import load_file

    full = train_longlora(_cfg(tiny_model_dir, corpus, tmp_path / "full"), progress=False)

    def kill_after_step_3(log):
        if log.step == 3:
            raise KeyboardInterrupt

    cfg = _cfg(tiny_model_dir, corpus, tmp_path / "killed")
    with pytest.raises(KeyboardInterrupt):
        train_longlora(cfg, on_step=kill_after_step_3, progress=False)
    assert sorted(p.name for p in (tmp_path / "killed" / "checkpoints").glob("step-*")) == ["step-000002"]
    seen = []
    resumed = train_longlora(cfg, on_step=lambda log: seen.append(log.step), progress=False)
    assert seen == [3, 4]  # picked up after the step-2 checkpoint
    a = load_file(full / "adapter_model.safetensors")
    b = load_file(resumed / "adapter_model.safetensors")
    for key in a:
        torch.testing.assert_close(b[key], a[key], atol=1e-6, rtol=1e-5)
    steps = [json.loads(line)["step"] for line in (tmp_path / "killed" / "train_log.jsonl").read_text().splitlines()]
    assert steps == [1, 2, 3, 3, 4]


def test_cli_train_longlora(tiny_model_dir, corpus, tmp_path):
    from typer.testing import CliRunner

    from adactx.cli import app

    config = tmp_path / "c.toml"
    config.write_text(
        f'model = "{tiny_model_dir}"\ndata_files = ["{corpus}"]\noutput_dir = "{tmp_path / "cli"}"\n'
        "target_length = 64\nsteps = 2\nsave_every = 1\ndtype = \"float32\"\n"
    )
    result = CliRunner().invoke(app, ["train", "longlora", "--config", str(config), "--no-progress"])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "cli" / "adapter" / "adapter_model.safetensors").exists()
    assert list((tmp_path / "cli" / "runs").glob("events.out.tfevents.*"))  # report_to = "tensorboard"
    help_text = CliRunner().invoke(app, ["train", "longlora", "--help"]).output
    assert "--config" in help_text and "resumes" in help_text


def test_data_order_does_not_depend_on_steps(tiny_model_dir, corpus, tmp_path):
    from adactx.kernels.train import batch_indices, pack_blocks, read_texts
    from helpers import tiny_tokenizer

    tok = tiny_tokenizer()
    few = pack_blocks(read_texts([str(corpus)], 0), tok, 64, max_blocks=2)
    many = pack_blocks(read_texts([str(corpus)], 0), tok, 64, max_blocks=6)
    assert torch.equal(many[:2], few)
    cfg = _cfg(tiny_model_dir, corpus, tmp_path)
    assert [batch_indices(s, cfg, 6, 0) for s in range(3)] == [[0], [1], [2]]
