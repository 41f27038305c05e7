"""Position interpolation through rope_parameters, and the LongLoRA trainable set."""

from __future__ import annotations

import torch
from adactx.kernels.lora import LORA_TARGETS, add_longlora_adapter, trainable_parameter_names
from adactx.kernels.position import apply_position_interpolation, interpolation_factor, rope_scaling_of


def test_interpolation_factor_follows_longlora():
    assert interpolation_factor(16384, 8192) == 2.0
    assert interpolation_factor(12000, 8192) == 2.0  # ceil
    assert interpolation_factor(4096, 8192) == 1.0


def test_linear_interpolation_squeezes_positions():
    from helpers import tiny_llama

    model = tiny_llama(max_position_embeddings=64)
    x = torch.zeros(1, 1, 8)
    cos_1, sin_1 = model.model.rotary_emb(x, torch.tensor([[0, 1, 2, 3, 10]]))
    theta = model.config.rope_parameters["rope_theta"]
    apply_position_interpolation(model, 2.0)
    assert model.config.rope_parameters == {"rope_theta": theta, "rope_type": "linear", "factor": 2.0}
    assert model.config.max_position_embeddings == 128 and rope_scaling_of(model) == 2.0
    cos_2, sin_2 = model.model.rotary_emb(x, torch.tensor([[0, 2, 4, 6, 20]]))
    torch.testing.assert_close(cos_2, cos_1)
    torch.testing.assert_close(sin_2, sin_1)
    apply_position_interpolation(model, 2.0)  # idempotent: relative to the original window
    assert model.config.max_position_embeddings == 128


def test_no_interpolation_is_a_no_op():
    from helpers import tiny_llama

    model = tiny_llama()
    ids = torch.randint(0, 300, (1, 16))
    with torch.no_grad():
        before = model(ids).logits
        apply_position_interpolation(model, 1.0)
        assert torch.equal(model(ids).logits, before) and rope_scaling_of(model) == 1.0


def test_trainable_set_is_lora_plus_embeddings_and_norms():
    from helpers import tiny_llama

    model = add_longlora_adapter(tiny_llama())
    names = trainable_parameter_names(model)
    lora = [n for n in names if "lora_" in n]
    assert len(lora) == 2 * len(LORA_TARGETS) * 2  # A and B, 4 projections, 2 layers
    assert all(any(f".{t}." in n for t in LORA_TARGETS) for n in lora)
    extras = sorted(n for n in names if "lora_" not in n)
    assert extras == sorted(
        ["base_model.model.model.embed_tokens.modules_to_save.default.weight",
         "base_model.model.model.norm.modules_to_save.default.weight"]
        + [f"base_model.model.model.layers.{i}.{k}.modules_to_save.default.weight"
           for i in range(2) for k in ("input_layernorm", "post_attention_layernorm")]
    )
    r8 = next(p for n, p in model.named_parameters() if "q_proj.lora_A" in n)
    assert r8.shape[0] == 8
    assert model.peft_config["default"].lora_alpha == 16
