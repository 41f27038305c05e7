"""`adactx train longlora` settings: one dataclass, each field with its help, validated on creation.

    cfg = LongLoRATrainConfig.from_file("configs/longlora_smollm2_16k.toml", overrides=["--max_steps", "2"])
    cfg = LongLoRATrainConfig(data_files=["data:pg_essays"], target_length=4096, max_steps=10)

Field names follow ``transformers.TrainingArguments`` (``max_steps``, ``per_device_train_batch_size``,
``gradient_accumulation_steps``, ``save_steps``, ``save_total_limit``, ``logging_steps``, ``report_to``);
files with the old names (``steps``, ``batch_size``, ``grad_accum``, ``save_every``, ``keep_checkpoints``)
still load, with a one-line notice. ``data:REL`` in ``data_files`` is REL under the data root
(``$ADACTX_DATA``, see ``adactx.data.paths``), so a config works from any clone.
Files may be TOML, JSON or YAML (YAML needs PyYAML); unknown keys are an error naming the key.
Nothing heavy is imported here.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from adactx.config_files import accept_renamed, load_config, rename_deprecated
from adactx.config_types import check_field_types
from adactx.errors import AdactxError
from adactx.training_args import LoggingArgs

ATTENTIONS = ("s2attn", "full")
DTYPES = ("bfloat16", "float32")


@accept_renamed
@dataclass
class LongLoRATrainConfig(LoggingArgs):
    RENAMED: ClassVar[dict[str, str]] = {
        "steps": "max_steps", "batch_size": "per_device_train_batch_size", "grad_accum": "gradient_accumulation_steps",
        "save_every": "save_steps", "keep_checkpoints": "save_total_limit",
    }

    data_files: list[str] = field(
        default_factory=list,
        metadata={"help": "Local text: .txt files, QMSum-style .json/.jsonl meetings, or folders of them; "
                          "data:REL is REL under the data root ($ADACTX_DATA)."},
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
    max_steps: int = field(default=100, metadata={"help": "Optimizer steps."})
    per_device_train_batch_size: int = field(default=1, metadata={"help": "Sequences per micro-batch."})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "Micro-batches per optimizer step."})
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
    save_steps: int = field(default=50, metadata={"help": "Checkpoint every N steps (resume picks the latest)."})
    save_total_limit: int = field(default=2, metadata={"help": "How many recent checkpoints to keep."})
    seed: int = field(default=0, metadata={"help": "Seed for the data order and LoRA initialization."})
    num_threads: int | None = field(default=None, metadata={"help": "torch CPU threads (empty: torch's default)."})

    def __post_init__(self) -> None:
        if isinstance(self.data_files, str):
            self.data_files = [self.data_files]
        self.check_logging()
        check_field_types(self)
        if not self.data_files:
            raise AdactxError("data_files: give at least one local text file or folder")
        positive = ("target_length", "max_steps", "per_device_train_batch_size", "gradient_accumulation_steps",
                    "lora_r", "lora_alpha", "save_steps")
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
        if self.save_total_limit < 1:
            raise AdactxError(f"save_total_limit: must be >= 1, got {self.save_total_limit}")
        if self.num_threads is not None and self.num_threads < 1:
            raise AdactxError(f"num_threads: must be >= 1, got {self.num_threads}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> LongLoRATrainConfig:
        data = rename_deprecated(data, cls, "longlora config")
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise AdactxError(f"{unknown[0]}: unknown longlora config key (known: {', '.join(sorted(names))})")
        return cls(**data)

    @classmethod
    def from_file(cls, path: str | Path | None, overrides: list[str] | None = None) -> LongLoRATrainConfig:
        """Read TOML / JSON / YAML (or None: the defaults), then ``--FIELD VALUE`` overrides; relative data
        paths stay relative to the working directory, ``data:REL`` ones to the data root."""
        return load_config(cls, path, section="longlora", overrides=overrides)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def help() -> dict[str, str]:
        return {f.name: f.metadata.get("help", "") for f in fields(LongLoRATrainConfig)}
