"""Configs of the TRL trainers of a learned context policy (nothing heavy imported here).

    cfg = PPOTrainConfig.from_file("configs/ppo_mixed.toml")    # TOML / JSON; [env] is an EnvConfig table
    cfg = PPOTrainConfig.from_file("configs/ppo_mixed.toml", overrides=["--iterations", "4", "--env.budget", "2048"])
    cfg = GRPOTrainConfig(data="mixed:train", max_steps=20, num_generations=4)

``PolicyTrainConfig`` holds what both trainers share (data, environment, reward, policy model, rollout,
logging); ``PPOTrainConfig`` and ``GRPOTrainConfig`` add their own knobs. Field names follow
``transformers.TrainingArguments`` / TRL where the concept is the same (``learning_rate``,
``per_device_train_batch_size``, ``num_ppo_epochs``, ``kl_coef``, ``num_generations``, ``output_dir``,
``report_to``, ``logging_dir``, ``logging_steps``, ``seed``; GRPO's ``max_steps``, ``save_steps``,
``save_total_limit``, ``gradient_accumulation_steps``, ``warmup_steps``). PPO keeps ``iterations``: one
iteration is a rollout plus a PPO run over its decisions, not one optimizer step (and a new TRL trainer,
so it has no warm-up or accumulation across iterations). GRPO files with ``iterations`` still load (read as ``max_steps``, with a
one-line notice). Unknown keys in a file are an error naming the key.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from adactx.rl.env import EnvConfig
from adactx.rl.observation_text import validate_grammar

from adactx.config import require_positive
from adactx.config_files import accept_renamed, load_config, rename_deprecated
from adactx.errors import AdactxError
from adactx.training_args import LoggingArgs

POLICY_GRAMMAR = ("retrieve 2", "extend 1024", "refine", "answer", "summarize")


def _require_above_zero(config: object, *names: str) -> None:
    for name in names:
        if not float(getattr(config, name)) > 0:
            raise AdactxError(f"{type(config).__name__}.{name}: must be > 0, got {getattr(config, name)}")


@dataclass
class PolicyTrainConfig(LoggingArgs):
    TABLES: ClassVar[dict[str, type]] = {"env": EnvConfig}  # --env.FIELD on the command line

    output_dir: str = field(default="runs/policy", metadata={"help": "checkpoints, TensorBoard logs, the policy"})
    data: str = field(default="mixed:train", metadata={"help": "training examples NAME[:SPLIT] (train splits only)"})
    n_examples: int = field(default=200, metadata={"help": "training examples drawn (seeded)"})
    mixed_lengths: tuple[int, ...] = field(default=(1000, 2000, 3000), metadata={"help": "mixed suite doc lengths"})
    encoder: str = field(default="minilm", metadata={"help": "retrieval encoder: minilm | hashing"})
    env: dict = field(default_factory=dict, metadata={"help": "EnvConfig fields (budget, max_steps, ...)"})
    lam: float = field(default=0.02, metadata={"help": "λ: reward = score − λ · tokens computed / 1000"})
    invalid_penalty: float = field(default=0.5, metadata={"help": "paid by an unparseable response (then it answers)"})
    grammar: tuple[str, ...] = field(default=POLICY_GRAMMAR, metadata={"help": "the action grammar"})
    reader_adapter: str | None = field(
        default=None, metadata={"help": "the reader's adapter: builtin:smollm2-sft (default), none (the base "
                                         "model) or a directory (adactx train sft); the memo keys on it"}
    )
    base_model: str = field(default="smollm2-135m", metadata={"help": "policy base LM (or a local HF directory)"})
    lora_r: int = field(default=8, metadata={"help": "LoRA rank (q/k/v/o projections)"})
    lora_alpha: int = field(default=16, metadata={"help": "LoRA alpha"})
    learning_rate: float = field(default=1e-4, metadata={"help": "LoRA learning rate"})
    episodes_per_iteration: int = field(default=8, metadata={"help": "training examples rolled out per iteration"})
    format_warmup_steps: int = field(
        default=0, metadata={"help": "supervised steps teaching the grammar (random offered actions) before RL"}
    )
    temperature: float = field(default=1.0, metadata={"help": "sampling temperature of rollouts"})
    max_new_tokens: int = field(default=8, metadata={"help": "most tokens in one action response"})
    seed: int = field(default=0, metadata={"help": "seed for example order, sampling and initialisation"})

    def __post_init__(self) -> None:
        from adactx.reader import adapter_name

        self.reader_adapter = adapter_name(self.reader_adapter)  # the default written out: runs record their reader
        self.check_logging()
        require_positive(self, "n_examples", "lora_r", "lora_alpha", "episodes_per_iteration", "max_new_tokens")
        _require_above_zero(self, "learning_rate", "temperature")
        self.grammar = validate_grammar(self.grammar, f"{type(self).__name__}.grammar")
        self.mixed_lengths = tuple(int(x) for x in self.mixed_lengths)
        if self.format_warmup_steps < 0:
            raise AdactxError(f"{type(self).__name__}.format_warmup_steps: must be >= 0, got {self.format_warmup_steps}")
        for name in ("lam", "invalid_penalty"):
            if float(getattr(self, name)) < 0:
                raise AdactxError(f"{type(self).__name__}.{name}: must be >= 0, got {getattr(self, name)}")
        self.env_config()  # validates the [env] table

    def env_config(self) -> EnvConfig:
        names = {f.name for f in fields(EnvConfig)}
        unknown = sorted(set(self.env) - names)
        if unknown:
            raise AdactxError(f"{type(self).__name__}.env: unknown EnvConfig field {unknown[0]!r}")
        return EnvConfig(**self.env)

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str = "config") -> PolicyTrainConfig:
        data = rename_deprecated(data, cls, where)
        names = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise AdactxError(f"{where}: unknown key {unknown[0]!r} (known: {', '.join(sorted(names))})")
        return cls(**{k: tuple(v) if isinstance(v, list) else v for k, v in data.items()})

    @classmethod
    def from_file(cls, path: str | Path | None, overrides: list[str] | None = None) -> PolicyTrainConfig:
        """Read TOML / JSON / YAML (None: the defaults), then ``--FIELD VALUE`` overrides."""
        return load_config(cls, path, overrides=overrides)

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


@dataclass
class PPOTrainConfig(PolicyTrainConfig):
    iterations: int = field(default=10, metadata={"help": "outer iterations: roll out, then PPO on their decisions"})
    per_device_train_batch_size: int = field(default=8, metadata={"help": "decisions per PPO batch"})
    num_ppo_epochs: int = field(default=2, metadata={"help": "PPO epochs over each batch"})
    num_mini_batches: int = field(default=1, metadata={"help": "minibatches per PPO batch"})
    kl_coef: float = field(default=0.05, metadata={"help": "KL penalty against the reference (kl_reference)"})
    kl_reference: str = field(
        default="start",
        metadata={"help": "KL reference: start (the policy as PPO starts, after the format warm-up) | "
                          "base (the adapter-free base, TRL's default under PEFT)"},
    )
    value_learning_rate: float = field(default=1e-3, metadata={"help": "learning rate of the value head"})
    train_value_backbone: bool = field(default=False, metadata={"help": "also train the value model's backbone"})
    value_layers: int | None = field(
        default=None,
        metadata={"help": "the value model keeps the base's first N layers (cheaper forwards); empty: all"},
    )
    cliprange: float = field(default=0.2, metadata={"help": "PPO policy clip range"})
    decision_return: str = field(
        default="policy",
        metadata={"help": "who finishes an episode after a PPO sample's action: policy (the current policy, "
                          "greedily) | answer (answer at once: one step of lookahead)"},
    )
    state_baseline: bool = field(
        default=False,
        metadata={"help": "subtract the state's mean return over the grammar's actions from PPO's score"},
    )

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "iterations", "per_device_train_batch_size", "num_ppo_epochs", "num_mini_batches")
        _require_above_zero(self, "value_learning_rate", "cliprange")
        if self.value_layers is not None:
            require_positive(self, "value_layers")
        if self.kl_coef < 0:
            raise AdactxError(f"PPOTrainConfig.kl_coef: must be >= 0, got {self.kl_coef}")
        if self.kl_reference not in ("start", "base"):
            raise AdactxError(f"PPOTrainConfig.kl_reference: 'start' or 'base', got {self.kl_reference!r}")
        if self.decision_return not in ("policy", "answer"):
            raise AdactxError(f"PPOTrainConfig.decision_return: 'policy' or 'answer', got {self.decision_return!r}")


@accept_renamed
@dataclass
class GRPOTrainConfig(PolicyTrainConfig):
    RENAMED: ClassVar[dict[str, str]] = {"iterations": "max_steps"}

    max_steps: int = field(default=10, metadata={"help": "GRPO optimizer steps (one batch of episodes each)"})
    gradient_accumulation_steps: int = field(default=1, metadata={"help": "batches of episodes per optimizer step"})
    warmup_steps: int = field(default=0, metadata={"help": "linear learning-rate warm-up steps, then constant"})
    save_steps: int | None = field(default=None, metadata={"help": "checkpoint every N steps (empty: max_steps // 10)"})
    save_total_limit: int = field(default=2, metadata={"help": "how many recent checkpoints to keep"})
    num_generations: int = field(default=4, metadata={"help": "rollouts per example (group-relative advantages)"})
    per_device_train_batch_size: int = field(default=8, metadata={"help": "episodes per GRPO batch"})
    beta: float = field(default=0.0, metadata={"help": "KL coefficient against the reference (TRL GRPO beta)"})
    max_completion_length: int = field(default=512, metadata={"help": "most tokens of a whole closed-loop episode"})

    def __post_init__(self) -> None:
        super().__post_init__()
        require_positive(self, "max_steps", "per_device_train_batch_size", "max_completion_length",
                         "save_total_limit", "gradient_accumulation_steps")
        if self.warmup_steps < 0:
            raise AdactxError(f"GRPOTrainConfig.warmup_steps: must be >= 0, got {self.warmup_steps}")
        if self.save_steps is not None:
            require_positive(self, "save_steps")
        if self.num_generations < 2:
            raise AdactxError(f"GRPOTrainConfig.num_generations: need >= 2, got {self.num_generations}")
        if self.per_device_train_batch_size % self.num_generations:
            raise AdactxError("GRPOTrainConfig.per_device_train_batch_size: must be a multiple of num_generations")


__all__ = ["POLICY_GRAMMAR", "GRPOTrainConfig", "PPOTrainConfig", "PolicyTrainConfig"]
