"""`adactx train longlora` settings: one dataclass, each field with its help, validated on creation.

    cfg = LongLoRATrainConfig.from_file("configs/longlora_smollm2_16k.toml")
    cfg = LongLoRATrainConfig(data_files=["../shared/data/pg_essays"], target_length=4096, steps=10)

Files may be TOML, JSON or YAML (YAML needs PyYAML); unknown keys are an error naming the key.
Nothing heavy is imported here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from adactx.config_files import read_config_file
from adactx.config_types import check_field_types
from adactx.errors import AdactxError

ATTENTIONS = ("s2attn", "full")
DTYPES = ("bfloat16", "float32")


@dataclass
class LongLoRATrainConfig:
    data_files: list[str] = field(
        default_factory=list,
        metadata={"help": "Local text: .txt files, QMSum-style .json/.jsonl meetings, or folders of them."},
    )
    model: str | None = field(
        default=None, metadata={"help": "Base model: a local HF directory; empty for the default SmolLM2-135M."}
    )
    output_dir: str = field(default="runs/longlora", metadata={"help": "Checkpoints and the final adapter go here."})
    target_length: int = field(default=16384, metadata={"help": "Training sequence length (texts are packed to it)."})
    rope_factor: float | None = field(
        default=None,
        metadata={"help": "Linear position-interpolation factor; empty: ceil(target_length / model window)."},
    )
    steps: int = field(default=100, metadata={"help": "Optimizer steps."})
    batch_size: int = field(default=1, metadata={"help": "Sequences per micro-batch."})
    grad_accum: int = field(default=1, metadata={"help": "Micro-batches per optimizer step."})
    learning_rate: float = field(default=2e-5, metadata={"help": "AdamW peak learning rate (paper: 2e-5)."})
    warmup_steps: int = field(default=20, metadata={"help": "Linear warm-up steps, then constant (paper: 20)."})
    weight_decay: float = field(default=0.0, metadata={"help": "AdamW weight decay."})
    max_grad_norm: float = field(default=1.0, metadata={"help": "Gradient clipping norm (0: off)."})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank."})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA alpha."})
    trainable_extras: list[str] = field(
        default_factory=lambda: ["embed_tokens", "input_layernorm", "post_attention_layernorm", "norm"],
        metadata={"help": "Modules trained in full next to LoRA (PEFT modules_to_save); [] for plain LoRA."},
    )
    attention: str = field(default="s2attn", metadata={"help": "s2attn (LongLoRA) or full (plain SDPA, ablation)."})
    group_size_ratio: float = field(default=0.25, metadata={"help": "S²-Attn group size as a fraction of the length."})
    gradient_checkpointing: bool = field(default=True, metadata={"help": "Recompute activations in backward."})
    dtype: str = field(default="bfloat16", metadata={"help": "Frozen weights' dtype; trainable ones stay float32."})
    save_every: int = field(default=50, metadata={"help": "Checkpoint every N steps (resume picks the latest)."})
    keep_checkpoints: int = field(default=2, metadata={"help": "How many recent checkpoints to keep."})
    seed: int = field(default=0, metadata={"help": "Seed for the data order and LoRA initialization."})
    num_threads: int | None = field(default=None, metadata={"help": "torch CPU threads (empty: torch's default)."})

    def __post_init__(self) -> None:
        if isinstance(self.data_files, str):
            self.data_files = [self.data_files]
        check_field_types(self)
        if not self.data_files:
            raise AdactxError("data_files: give at least one local text file or folder")
        positive = ("target_length", "steps", "batch_size", "grad_accum", "lora_r", "lora_alpha", "save_every")
        for name in positive:
            if int(getattr(self, name)) < 1:
                raise AdactxError(f"{name}: must be >= 1, got {getattr(self, name)}")
        if self.target_length < 8:
            raise AdactxError(f"target_length: must be >= 8, got {self.target_length}")
        if self.learning_rate <= 0:
            raise AdactxError(f"learning_rate: must be > 0, got {self.learning_rate}")
        if self.warmup_steps < 0 or self.weight_decay < 0 or self.max_grad_norm < 0:
            raise AdactxError("warmup_steps, weight_decay, max_grad_norm: must be >= 0")
        if self.rope_factor is not None and self.rope_factor < 1:
            raise AdactxError(f"rope_factor: must be >= 1 (or empty for automatic), got {self.rope_factor}")
        if self.attention not in ATTENTIONS:
            raise AdactxError(f"attention: {self.attention!r} is not one of {ATTENTIONS}")
        if not 0 < self.group_size_ratio <= 1:
            raise AdactxError(f"group_size_ratio: must be in (0, 1], got {self.group_size_ratio}")
        if self.dtype not in DTYPES:
            raise AdactxError(f"dtype: {self.dtype!r} is not one of {DTYPES}")
        if self.keep_checkpoints < 1:
            raise AdactxError(f"keep_checkpoints: must be >= 1, got {self.keep_checkpoints}")
        if self.num_threads is not None and self.num_threads < 1:
            raise AdactxError(f"num_threads: must be >= 1, got {self.num_threads}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LongLoRATrainConfig:
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise AdactxError(f"{unknown[0]}: unknown longlora config key (known: {', '.join(sorted(names))})")
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | Path) -> LongLoRATrainConfig:
        """Read TOML / JSON / YAML; relative data paths stay relative to the working directory."""
        path = Path(path)
        data = read_config_file(path)
        data = data.get("longlora", data)
        if not isinstance(data, dict):
            raise AdactxError(f"--config {path}: `longlora` must be a table of fields")
        try:
            return cls.from_dict(data)
        except AdactxError as exc:
            raise AdactxError(f"--config {path}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def help() -> dict[str, str]:
        return {f.name: f.metadata.get("help", "") for f in fields(LongLoRATrainConfig)}
