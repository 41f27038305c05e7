"""`adactx train features` settings: the feature-policy arm (MaskablePPO over the env's vector observation).

    cfg = FeatureTrainConfig.from_file("configs/features_mixed.toml")
    cfg = FeatureTrainConfig(data="mixed:train", n=64, total_timesteps=2048,
                             env=EnvConfig(budget=4096), reward=RewardConfig(lam=0.02))

A file holds the top-level fields plus optional ``[env]`` (``adactx.rl.env.EnvConfig``) and ``[reward]``
(``adactx.rl.rewards.RewardConfig``) tables, so the environment's and the reward's defaults keep one source.
Files may be TOML, JSON or YAML; an unknown key is an error naming it. Nothing heavy is imported here.
Names follow ``transformers.TrainingArguments`` where the concept is the same (``learning_rate``,
``per_device_train_batch_size`` = sb3's minibatch, ``save_steps``, ``save_total_limit``, ``report_to``,
``logging_dir``, ``seed``, ``output_dir``); sb3's own ``total_timesteps`` / ``n_steps`` count decisions, not
optimizer steps, and keep sb3's names. Old names (``batch_size``, ``save_every``, ``keep_checkpoints``)
still load, with a one-line notice.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, ClassVar

from adactx.rl.env import EnvConfig
from adactx.rl.rewards import RewardConfig

from adactx.config import require_positive
from adactx.config_files import accept_renamed, load_config, rename_deprecated
from adactx.errors import AdactxError
from adactx.training_args import LoggingArgs

ACTIVATIONS = ("tanh", "relu")


@accept_renamed
@dataclass
class FeatureTrainConfig(LoggingArgs):
    RENAMED: ClassVar[dict[str, str]] = {
        "batch_size": "per_device_train_batch_size", "save_every": "save_steps", "keep_checkpoints": "save_total_limit",
    }

    data: str = field(default="mixed:train", metadata={"help": "training set NAME[:SPLIT] (train splits only)"})
    n: int = field(default=200, metadata={"help": "training examples (a generated set makes this many)"})
    mixed_lengths: tuple[int, ...] = field(
        default=(1000, 2000, 3000), metadata={"help": "mixed suite: document lengths in tokens"}
    )
    model: str | None = field(default=None, metadata={"help": "reader model (default: SmolLM2-135M-Instruct)"})
    adapter: str | None = field(
        default=None, metadata={"help": "the reader's adapter: builtin:smollm2-sft (default on the bundled model), "
                                         "none (the base model) or a directory (adactx train sft); the memo keys on it"}
    )
    encoder: str = field(default="minilm", metadata={"help": "retrieval encoder: minilm | hashing"})
    output_dir: str = field(default="runs/features", metadata={"help": "checkpoints, logs and the policy dir"})
    total_timesteps: int = field(default=4096, metadata={"help": "policy decisions to train on (env steps)"})
    n_steps: int = field(default=256, metadata={"help": "decisions per rollout (one PPO update each)"})
    per_device_train_batch_size: int = field(default=64, metadata={"help": "PPO minibatch size (sb3 batch_size)"})
    n_epochs: int = field(default=4, metadata={"help": "PPO epochs per rollout"})
    learning_rate: float = field(default=3e-4, metadata={"help": "Adam learning rate"})
    gamma: float = field(default=1.0, metadata={"help": "discount (1: the episode's undiscounted return)"})
    gae_lambda: float = field(default=0.95, metadata={"help": "GAE lambda"})
    clip_range: float = field(default=0.2, metadata={"help": "PPO clip range"})
    ent_coef: float = field(default=0.01, metadata={"help": "entropy bonus"})
    hidden: tuple[int, ...] = field(default=(64, 64), metadata={"help": "MLP hidden layer sizes"})
    activation: str = field(default="tanh", metadata={"help": "MLP activation: tanh | relu"})
    logging_steps: int = field(default=1, metadata={"help": "write sb3's TensorBoard scalars every N rollouts"})
    save_steps: int = field(
        default=256, metadata={"help": "checkpoint every N decisions (at rollout ends); reruns resume"}
    )
    save_total_limit: int = field(default=2, metadata={"help": "how many recent checkpoints to keep"})
    seed: int = field(default=0, metadata={"help": "seed for data generation, env sampling and PPO"})
    memo_path: str | None = field(
        default=None, metadata={"help": "reader memo SQLite (default: $ADACTX_CACHE/memo.sqlite)"}
    )
    env: EnvConfig = field(
        default_factory=EnvConfig,
        metadata={"help": "[env] table: EnvConfig fields (budget, max_steps, actions, ...)"},
    )
    reward: RewardConfig = field(
        default_factory=RewardConfig, metadata={"help": "[reward] table: RewardConfig fields (lam, cost, ...)"}
    )

    def __post_init__(self) -> None:
        from adactx.reader import adapter_name

        self.adapter = adapter_name(self.adapter, self.model)  # the default written out: runs record their reader
        self.mixed_lengths = tuple(int(x) for x in self.mixed_lengths)
        self.hidden = tuple(int(x) for x in self.hidden)
        if isinstance(self.env, dict):
            self.env = _sub(EnvConfig, self.env, "env", {})
        if isinstance(self.reward, dict):
            self.reward = _sub(RewardConfig, self.reward, "reward", {})
        self.check_logging()
        require_positive(self, "n", "total_timesteps", "n_steps", "per_device_train_batch_size", "n_epochs",
                         "save_steps", "save_total_limit")
        if not self.hidden or min(self.hidden) < 1:
            raise AdactxError(f"FeatureTrainConfig.hidden: need one or more sizes >= 1, got {self.hidden}")
        if self.activation not in ACTIVATIONS:
            raise AdactxError(f"FeatureTrainConfig.activation: {self.activation!r} is not one of {ACTIVATIONS}")
        for name in ("learning_rate", "clip_range"):
            if not float(getattr(self, name)) > 0:
                raise AdactxError(f"FeatureTrainConfig.{name}: must be > 0, got {getattr(self, name)}")
        for name in ("gamma", "gae_lambda"):
            if not 0 <= float(getattr(self, name)) <= 1:
                raise AdactxError(f"FeatureTrainConfig.{name}: must be in [0, 1], got {getattr(self, name)}")
        if self.ent_coef < 0:
            raise AdactxError(f"FeatureTrainConfig.ent_coef: must be >= 0, got {self.ent_coef}")
        if self.n_steps < 2:
            raise AdactxError(f"FeatureTrainConfig.n_steps: must be >= 2, got {self.n_steps}")

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> FeatureTrainConfig:
        if isinstance(data, dict):
            data = rename_deprecated(data, cls, "features config")
        return _sub(cls, data, "features", {})

    @classmethod
    def from_file(cls, path: str | Path | None, overrides: list[str] | None = None) -> FeatureTrainConfig:
        """Read TOML / JSON / YAML (a top-level ``[features]`` table is also accepted; None: the defaults),
        then ``--FIELD VALUE`` overrides (``--env.budget 4096``, ``--reward.lam 0.05``)."""
        return load_config(cls, path, section="features", overrides=overrides)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @staticmethod
    def help() -> dict[str, str]:
        return {f.name: f.metadata.get("help", "") for f in fields(FeatureTrainConfig)}


def _sub(cls, data: dict, section: str, defaults: dict):
    """Build ``cls`` from a dict, naming the section and key of an unknown field."""
    if not isinstance(data, dict):
        raise AdactxError(f"[{section}]: expected a table of {cls.__name__} fields, got {type(data).__name__}")
    names = {f.name for f in fields(cls)}
    unknown = sorted(set(data) - names)
    if unknown:
        raise AdactxError(f"[{section}] {unknown[0]}: unknown {cls.__name__} key (known: {', '.join(sorted(names))})")
    try:
        return cls(**{**defaults, **data})
    except TypeError as exc:
        raise AdactxError(f"[{section}]: {exc}") from None
