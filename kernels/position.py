"""Position interpolation (Chen et al. 2023): linear RoPE scaling through ``config.rope_parameters``.

    factor = interpolation_factor(16384, 8192)              # 2.0 (LongLoRA: ceil(target / original))
    apply_position_interpolation(model, factor)             # rebuilds the rotary embeddings in place

Linear interpolation divides every position by ``factor`` before the rotary embedding, so a model
trained on 8k positions sees 16k positions squeezed into the range it knows.
"""

from __future__ import annotations

import math


def interpolation_factor(target_length: int, original_length: int) -> float:
    """LongLoRA's rule: ``ceil(target / original)`` when the target exceeds the original window, else 1."""
    if target_length <= original_length:
        return 1.0
    return float(math.ceil(target_length / original_length))


def linear_rope_parameters(rope_parameters: dict, factor: float) -> dict:
    """``rope_parameters`` with linear scaling by ``factor`` (theta and other keys kept)."""
    params = {k: v for k, v in dict(rope_parameters).items() if k not in ("rope_type", "factor")}
    return {**params, "rope_type": "linear", "factor": float(factor)}


def original_max_positions(config) -> int:
    """The window the weights were trained for (before any interpolation applied here)."""
    return int(getattr(config, "adactx_original_max_positions", None) or config.max_position_embeddings)


def apply_position_interpolation(model, factor: float):
    """Set linear RoPE scaling ``factor`` (relative to the original window) and rebuild rotary modules.

    ``factor <= 1`` is a no-op. Works on a plain or PEFT-wrapped transformers model; returns it.
    """
    if factor <= 1.0:
        return model
    config = model.config
    original = original_max_positions(config)
    config.adactx_original_max_positions = original
    config.rope_parameters = linear_rope_parameters(config.rope_parameters, factor)
    config.max_position_embeddings = int(original * factor)
    for parent in list(model.modules()):
        for name, child in list(parent.named_children()):
            if hasattr(child, "inv_freq") and hasattr(child, "rope_type"):
                fresh = type(child)(config=config).to(child.inv_freq.device)
                setattr(parent, name, fresh)
    return model


def rope_scaling_of(model) -> float:
    """The linear factor a model currently uses (1.0 for plain RoPE)."""
    params = model.config.rope_parameters or {}
    return float(params.get("factor", 1.0)) if params.get("rope_type") == "linear" else 1.0
