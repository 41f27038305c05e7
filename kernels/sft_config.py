"""`adactx train sft` settings: one dataclass, TrainingArguments-style names, validated on creation.

    cfg = SFTTrainConfig.from_file("configs/sft_smollm2_4k.toml")
    cfg = SFTTrainConfig(max_steps=10, model_max_length=2048, output_dir="/tmp/sft")
    cfg = SFTTrainConfig.from_file("configs/sft_smollm2_2k.toml", overrides=["--learning_rate", "1e-4"])

The data fields compose :class:`adactx.data.sft.SFTDataConfig` (one source per default): ``data`` is
a table of its fields in the file. Files may be TOML, JSON or YAML; unknown keys are an error naming
the key. Nothing heavy is imported here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from adactx.config_files import load_config, rename_deprecated
from adactx.data.sft import SFTDataConfig
from adactx.errors import AdactxError
from adactx.training_args import LoggingArgs

ATTENTIONS = ("s2attn", "full")
DTYPES = ("bfloat16", "float32")


@dataclass
class SFTTrainConfig(LoggingArgs):
    model: str | None = field(
        default=None, metadata={"help": "Base model: a local HF directory; empty for the default SmolLM2-135M."}
    )
    data: SFTDataConfig = field(
        default_factory=SFTDataConfig, metadata={"help": "Training data (adactx.data.sft.SFTDataConfig fields)."}
    )
    output_dir: str = field(default="runs/sft", metadata={"help": "Checkpoints, logs and the final adapter."})
    model_max_length: int = field(
        default=4096, metadata={"help": "Longest training sequence; the document is cut to fit, never the answer."}
    )
    max_answer_tokens: int = field(default=256, metadata={"help": "Longest answer kept (longer ones are cut)."})
    rope_factor: float | None = field(
        default=None,
        metadata={"help": "Linear position interpolation; empty: ceil(model_max_length / window) beyond it."},
    )
    max_steps: int = field(default=500, metadata={"help": "Optimizer steps."})
    per_device_train_batch_size: int = field(default=1, metadata={"help": "Examples per micro-batch."})
    gradient_accumulation_steps: int = field(default=8, metadata={"help": "Micro-batches per optimizer step."})
    learning_rate: float = field(default=2e-4, metadata={"help": "AdamW peak learning rate."})
    warmup_steps: int = field(default=10, metadata={"help": "Linear warm-up steps, then constant (LongLoRA)."})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm (0: off)."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank (q/k/v/o)."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA alpha."})
    train_embeddings: bool = field(
        default=False,
        metadata={"help": "Also train the input embedding (LoRA+; ~110 MB adapter). Off: LoRA + norms, small."},
    )
    train_norms: bool = field(default=True, metadata={"help": "Train every RMSNorm in full (LoRA+)."})
    attention: str = field(default="s2attn", metadata={"help": "s2attn (LongLoRA SFT grouping) or full."})
    group_size_ratio: float = field(default=0.25, metadata={"help": "Group size / length when it is a multiple of 4096."})
    sft_group_size: int = field(
        default=8192, metadata={"help": "Fixed S²-Attn group size otherwise (LongLoRA SFT kernel: 8192)."}
    )
    gradient_checkpointing: bool = field(default=True, metadata={"help": "Recompute activations in backward."})
    dtype: str = field(default="bfloat16", metadata={"help": "Frozen weights' dtype; trainable ones stay float32."})
    save_steps: int = field(default=50, metadata={"help": "Checkpoint every N steps (resume picks the latest)."})
    save_minutes: float = field(default=0.0, metadata={"help": "Also checkpoint when this many minutes passed (0: off)."})
    save_total_limit: int = field(default=2, metadata={"help": "How many recent checkpoints to keep."})
    seed: int = field(default=0, metadata={"help": "Seed for the data (records and order) and LoRA init."})
    num_threads: int | None = field(default=None, metadata={"help": "torch CPU threads (empty: torch's default)."})

    def __post_init__(self) -> None:
        if isinstance(self.data, dict):
            self.data = _data_config(self.data)
        self.check_logging()
        positive = ("model_max_length", "max_answer_tokens", "max_steps", "per_device_train_batch_size",
                    "gradient_accumulation_steps", "lora_r", "lora_alpha", "save_steps", "save_total_limit",
                    "sft_group_size")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise AdactxError(f"{name}: must be >= 1, got {getattr(self, name)}")
        if self.model_max_length < self.max_answer_tokens + 64:
            raise AdactxError(f"model_max_length: must leave room for max_answer_tokens + 64, got {self.model_max_length}")
        if self.learning_rate <= 0:
            raise AdactxError(f"learning_rate: must be > 0, got {self.learning_rate}")
        for name in ("warmup_steps", "weight_decay", "max_grad_norm", "save_minutes"):
            if getattr(self, name) < 0:
                raise AdactxError(f"{name}: must be >= 0, got {getattr(self, name)}")
        if self.rope_factor is not None and self.rope_factor < 1:
            raise AdactxError(f"rope_factor: must be >= 1 (or empty for automatic), got {self.rope_factor}")
        if not 0 < self.group_size_ratio <= 1:
            raise AdactxError(f"group_size_ratio: must be in (0, 1], got {self.group_size_ratio}")
        for name, allowed in (("attention", ATTENTIONS), ("dtype", DTYPES)):
            if getattr(self, name) not in allowed:
                raise AdactxError(f"{name}: {getattr(self, name)!r} is not one of {allowed}")
        if self.num_threads is not None and self.num_threads < 1:
            raise AdactxError(f"num_threads: must be >= 1, got {self.num_threads}")

    @property
    def examples_per_step(self) -> int:
        return self.per_device_train_batch_size * self.gradient_accumulation_steps

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> SFTTrainConfig:
        data = rename_deprecated(data, cls, "sft config")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise AdactxError(f"{unknown[0]}: unknown sft config key (known: {', '.join(sorted(names))})")
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | Path | None, overrides: list[str] | None = None) -> SFTTrainConfig:
        """Read TOML / JSON / YAML (a top-level ``[sft]`` table is also accepted; None: the defaults), then
        ``--FIELD VALUE`` overrides (``--data.sources mixed:train`` for the data table)."""
        return load_config(cls, path, section="sft", overrides=overrides)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def help() -> dict[str, str]:
        return {f.name: f.metadata.get("help", "") for f in fields(SFTTrainConfig)}


def _data_config(data: dict) -> SFTDataConfig:
    names = {f.name for f in fields(SFTDataConfig)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise AdactxError(f"data.{unknown[0]}: unknown key (known: {', '.join(sorted(names))})")
    return SFTDataConfig(**data)
