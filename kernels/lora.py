"""LongLoRA's trainable set, wired with PEFT: LoRA on attention plus trainable embeddings and norms.

    model = add_longlora_adapter(base_model)                   # LoRA r=8, alpha=16 on q/k/v/o
    trainable_parameter_names(model)                           # lora_A/B + embed_tokens + every norm
    save_adapter(model, "runs/x/adapter", meta={...})          # adapter_model.safetensors + longlora.json
    model = load_longlora_model(None, "runs/x/adapter")        # base + adapter merged, PI re-applied

"LoRA+" in the paper is this: plain LoRA cannot extend the window, LoRA plus trainable embedding and
normalization layers can (Table 2). The extras are PEFT ``modules_to_save``: PEFT keeps a trainable
copy of each and saves it with the adapter. On a model with tied input/output embeddings (SmolLM2)
only the input embedding copy trains and the output head stays frozen -- LongLoRA's ``embed,norm``
never trains ``lm_head`` either.
"""

from __future__ import annotations

import json
from pathlib import Path

from adactx.errors import AdactxError

LORA_TARGETS = ("q_proj", "k_proj", "v_proj", "o_proj")
TRAINABLE_EXTRAS = ("embed_tokens", "input_layernorm", "post_attention_layernorm", "norm")
META_FILE = "longlora.json"


def lora_config(r: int = 8, alpha: int = 16, extras: tuple[str, ...] = TRAINABLE_EXTRAS):
    from peft import LoraConfig

    return LoraConfig(
        r=r,
        lora_alpha=alpha,
        lora_dropout=0.0,
        bias="none",
        target_modules=list(LORA_TARGETS),
        modules_to_save=list(extras),
        task_type="CAUSAL_LM",
    )


def add_longlora_adapter(model, r: int = 8, alpha: int = 16, extras: tuple[str, ...] = TRAINABLE_EXTRAS):
    """Wrap ``model`` in a PEFT model whose only trainable parameters are LongLoRA's."""
    from peft import get_peft_model

    return get_peft_model(model, lora_config(r, alpha, extras))


def trainable_parameter_names(model) -> list[str]:
    return [name for name, p in model.named_parameters() if p.requires_grad]


def save_adapter(model, out_dir: str | Path, meta: dict) -> Path:
    """Save the adapter (LoRA weights + trained extras, safetensors) and ``longlora.json`` (PI factor...)."""
    out = Path(out_dir)
    model.save_pretrained(out, safe_serialization=True)
    (out / META_FILE).write_text(json.dumps(meta, indent=2, sort_keys=True))
    # PEFT's card names the base by the directory it was loaded from (a cache path): write a portable one
    (out / "README.md").write_text(model_card(model.peft_config["default"].base_model_name_or_path, meta))
    return out


def model_card(base: str, meta: dict) -> str:
    """A model card for an adapter: its base as the adapter records it, and how it was trained (``meta``)."""
    rows = "\n".join(f"| {key} | {json.dumps(value)} |" for key, value in sorted(meta.items()))
    return (f"---\nbase_model: {base}\nlibrary_name: peft\ntags:\n- lora\n- longlora\n- adactx\n---\n\n"
            f"# LongLoRA adapter for {base}\n\nTrained with `adactx train {meta.get('recipe', 'longlora')}`; "
            f"load it with `adactx ask ... --adapter DIR` or `peft.PeftModel.from_pretrained`.\n\n"
            f"| setting | value |\n|---|---|\n{rows}\n")


def read_adapter_meta(adapter_dir: str | Path) -> dict:
    path = Path(adapter_dir) / META_FILE
    if not (Path(adapter_dir) / "adapter_config.json").exists():
        raise AdactxError(f"--adapter {adapter_dir}: not a PEFT adapter directory (no adapter_config.json)")
    return json.loads(path.read_text()) if path.exists() else {}


def load_longlora_reader(
    model: str | None,
    adapter: str | None = None,
    *,
    rope_factor: float | None = None,
    dtype: str = "bfloat16",
    attn_implementation: str = "sdpa",
):
    """An ``HFReader`` over the model (+ adapter merged: the default reader's when ``adapter`` is None,
    none when it is ``none``) with position interpolation applied.

    ``rope_factor`` ``None`` takes the factor the adapter was trained with (1.0 without an adapter).
    """
    from adactx.kernels.position import apply_position_interpolation

    from adactx.reader import load_reader, resolve_adapter

    adapter_dir = resolve_adapter(adapter, model)  # None: the default reader's adapter; "none": the base
    meta = read_adapter_meta(adapter_dir) if adapter_dir else {}
    factor = float(meta.get("rope_factor", 1.0)) if rope_factor is None else float(rope_factor)
    if attn_implementation == "s2attn":
        from adactx.kernels.s2attn import register

        register()
    reader = load_reader(model, adapter=adapter, dtype=dtype, attn_implementation=attn_implementation)
    apply_position_interpolation(reader.model, factor)
    reader.max_context = int(reader.model.config.max_position_embeddings)
    return reader
