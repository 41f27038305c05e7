"""The default reader's adapter ships in the package (issue 10: "if the SFT reader is better on val it becomes
the default ... the adapter ships in the package, ≤ 20 MB"): names resolve, `none` is the base model, a run
records which reader it had, and an unknown name is a clear error."""

from __future__ import annotations

import json

import pytest
from helpers import save_tiny_model

from adactx.errors import AdactxError
from adactx.reader import (
    BUILTIN_ADAPTERS_DIR,
    DEFAULT_ADAPTER,
    adapter_name,
    builtin_adapters,
    load_reader,
    resolve_adapter,
)


def test_names_resolve():
    assert adapter_name(None) == adapter_name(None, "smollm2-135m") == DEFAULT_ADAPTER == "builtin:smollm2-sft"
    assert adapter_name(None, "/some/other/model") == "none"  # the shipped adapter fits the bundled model only
    assert adapter_name("runs/sft/adapter") == "runs/sft/adapter"
    assert resolve_adapter(None) == resolve_adapter("builtin:smollm2-sft") == BUILTIN_ADAPTERS_DIR / "smollm2-sft"
    assert resolve_adapter("none") is None
    assert resolve_adapter(None, "/some/other/model") is None


def test_the_shipped_adapter_is_small_portable_and_complete():
    (name,) = builtin_adapters()
    path = BUILTIN_ADAPTERS_DIR / name
    assert sum(p.stat().st_size for p in path.iterdir()) <= 20 * 2**20
    config = json.loads((path / "adapter_config.json").read_text())
    assert config["base_model_name_or_path"] == "smollm2-135m" and config["peft_type"] == "LORA"
    assert "embed_tokens" not in json.dumps(config["modules_to_save"])  # LoRA without the embedding matrix
    assert json.loads((path / "longlora.json").read_text())["steps"] == 300
    card = (path / "README.md").read_text()
    assert "base_model: smollm2-135m" in card and "/cache" not in card and "/work" not in card


def test_unknown_names_and_directories_are_clear_errors(tmp_path):
    with pytest.raises(AdactxError, match="no such built-in adapter.*builtin:smollm2-sft"):
        resolve_adapter("builtin:nope")
    with pytest.raises(AdactxError, match="adapter_config.json"):
        resolve_adapter(str(tmp_path))


def test_a_server_reader_takes_no_adapter():
    from adactx.cli.reader_options import spec

    with pytest.raises(AdactxError, match="only --reader hf"):
        spec("openai", "http://127.0.0.1:1/v1", "m", adapter="none")
    assert spec("hf", None, None).adapter == DEFAULT_ADAPTER
    assert spec("openai", "http://127.0.0.1:1/v1", "m").adapter is None


def test_another_model_gets_no_default_adapter(tmp_path):
    reader = load_reader(str(save_tiny_model(tmp_path / "tiny")), dtype="float32")
    assert reader.adapter_dir is None


def test_a_base_reader_run_is_not_resumed_by_the_default_reader():
    from adactx.rl.eval_config import EvalConfig
    from adactx.rl.run_dir import identity_diff

    before = EvalConfig(adapter=None).to_dict()  # a run directory written when the default was the base model
    assert identity_diff(before, EvalConfig(adapter=adapter_name(None)).to_dict()) == ["adapter"]


@pytest.mark.model
def test_the_default_reader_is_the_sft_reader():
    import torch

    sft, base = load_reader(), load_reader(adapter="none")
    assert sft.adapter_dir == BUILTIN_ADAPTERS_DIR / "smollm2-sft" and base.adapter_dir is None
    assert sft.name == "smollm2-135m+builtin:smollm2-sft" and base.name == "smollm2-135m"
    ids = torch.tensor([[1, 2, 3, 4, 5]])
    with torch.no_grad():
        assert not torch.allclose(sft.model(input_ids=ids).logits, base.model(input_ids=ids).logits)
