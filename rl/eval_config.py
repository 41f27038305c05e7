"""What an evaluation runs: ``EvalConfig`` (the episode settings plus data, policies, oracle, statistics).

    cfg = EvalConfig(data="qmsum:val", n=100, policies=("full", "first-1024", "topk-4", "threshold", "oracle"))
    cfg.to_dict()        # what a run directory's config.json holds; IDENTITY names what a resumed run must match

``EvalConfig`` subclasses ``adactx.rl.settings.EpisodeSettings`` (the controller's and the document's settings
with the RL defaults), so its controller knobs have one source. Imports nothing heavy (the CLI reads it).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from adactx.rl.selection import FIXED_PREFIXES, is_baseline_fixed
from adactx.rl.settings import EpisodeSettings

from adactx.config import DEFAULT_ENCODER, require_positive
from adactx.errors import AdactxError

IDENTITY = (
    "data",
    "seed",
    "budget",
    "max_steps",
    "answer_tokens",
    "summary_tokens",
    "draft_tokens",
    "chunk_tokens",
    "index_kind",
    "encoder",
    "oracle_actions",
    "oracle_depth",
    "mixed_lengths",
    "model",
    "adapter",
    "select_on",
    # settings EvalConfig gained from EpisodeSettings; a config.json written before has their defaults
    "retrieve_k",
    "extend_tokens",
    "refine_chunks",
    "refine_sentences",
    "part_tokens",
)


@dataclass
class EvalConfig(EpisodeSettings):
    """What an evaluation runs: the episode settings (``EpisodeSettings``: controller + document, with the
    RL defaults) plus the data, the policies, the oracle's tree and the statistics."""

    data: str = field(
        default="qmsum:val", metadata={"help": "data set NAME[:SPLIT] (adactx data list), or a .jsonl/.json/.parquet"}
    )
    fields: str = field(default="", metadata={"help": "a data file's columns: NAME=COLUMN,... (adactx.data.user)"})
    n: int | None = field(
        default=100, metadata={"help": "examples (a seeded random sample of a file-backed set)"}
    )
    seed: int = field(default=0, metadata={"help": "seed for sampling, generation and bootstrap"})
    policies: tuple[str, ...] = field(
        default=("full", "first-1024", "topk-4", "threshold", "oracle"),
        metadata={"help": "baseline policy names (adactx.graphs.policies) and `oracle`"},
    )
    encoder: str = field(default=DEFAULT_ENCODER, metadata={"help": "retrieval encoder: minilm | hashing"})
    lambdas: tuple[float, ...] = field(
        default=(0.0, 0.02, 0.05), metadata={"help": "λ per 1k tokens computed"}
    )
    oracle_actions: tuple[str, ...] = field(
        default=("retrieve-2", "extend-1024"), metadata={"help": "actions of the oracle's bounded tree"}
    )
    oracle_depth: int = field(
        default=2, metadata={"help": "most actions before answering in the oracle's tree"}
    )
    sensitivity: bool = field(default=False, metadata={"help": "also run the reader-sensitivity conditions"})
    prefix_tokens: int = field(default=1024, metadata={"help": "sensitivity: the fixed prefix (first-L)"})
    topk: int = field(default=4, metadata={"help": "sensitivity: top-k retrieval"})
    mixed_lengths: tuple[int, ...] = field(
        default=(1000, 2000, 3000), metadata={"help": "mixed suite doc lengths"}
    )
    model: str | None = field(
        default=None, metadata={"help": "reader model (default: SmolLM2-135M-Instruct)"}
    )
    adapter: str | None = field(
        default=None, metadata={"help": "PEFT adapter directory merged into the reader (adactx train sft)"}
    )
    n_boot: int = field(default=2000, metadata={"help": "bootstrap resamples"})
    crossfit_repeats: int = field(
        default=20, metadata={"help": "random halvings for the cross-fitted estimate"}
    )
    select_on: str | None = field(
        default=None,
        metadata={
            "help": "choose the best fixed setting and each knob (e.g. threshold τ) on this split of the same "
            "set (e.g. val), report on --data's split; unset: chosen in-sample (biased in its favour)"
        },
    )
    select_n: int | None = field(
        default=None, metadata={"help": "examples on the --select-on split (default: --n)"}
    )
    summary_quantile: float = field(
        default=0.5,
        metadata={
            "help": "query-focused summaries may have as many tokens as this quantile of the set's train "
            "references (reader tokens); it replaces summary_tokens, and config.json records both; 0 = keep "
            "summary_tokens"
        },
    )
    summary_tokens_from: str = field(
        default="", metadata={"help": "where summary_tokens came from (written by the run, not an option)"}
    )
    metric: str = field(
        default="score",
        metadata={
            "help": "what the tables score: the task's headline `score`, or a key of its metrics (contains)"
        },
    )

    def __post_init__(self) -> None:
        from adactx.rl.env import parse_action
        from adactx.rl.learned import resolve_policy as make_policy  # baselines or learned:DIR

        self.policies = tuple(p.strip() for p in self.policies if p.strip())
        self.lambdas = tuple(float(x) for x in self.lambdas)
        self.oracle_actions = tuple(self.oracle_actions)
        self.mixed_lengths = tuple(int(x) for x in self.mixed_lengths)
        if not self.policies:
            raise AdactxError("EvalConfig.policies: name at least one policy")
        for name in self.policies:
            if name != "oracle":
                make_policy(name)
        for spec in self.oracle_actions:
            parse_action(spec)
        if self.n is not None and self.n < 1:
            raise AdactxError(f"EvalConfig.n: must be >= 1, got {self.n}")
        if self.select_n is not None and self.select_n < 1:
            raise AdactxError(f"EvalConfig.select_n: must be >= 1, got {self.select_n}")
        super().__post_init__()
        require_positive(self, "n_boot", "prefix_tokens", "topk")
        if self.oracle_depth < 0:
            raise AdactxError(f"EvalConfig.oracle_depth: must be >= 0, got {self.oracle_depth}")
        if not 0.0 <= self.summary_quantile <= 1.0:
            raise AdactxError(f"EvalConfig.summary_quantile: must be in [0, 1], got {self.summary_quantile}")
        if self.select_on is not None:
            from adactx.rl.selection import selection_spec

            selection_spec(self.data, self.select_on)  # another split of the same set, or a one-line error
        if any(x < 0 for x in self.lambdas) or not self.lambdas:
            raise AdactxError(f"EvalConfig.lambdas: need one or more values >= 0, got {self.lambdas}")

    @property
    def baselines(self) -> list[str]:
        return [p for p in self.policies if p != "oracle"]

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    @classmethod
    def from_dict(cls, data: dict) -> EvalConfig:
        names = {f.name for f in fields(cls)}
        return cls(**{k: (tuple(v) if isinstance(v, list) else v) for k, v in data.items() if k in names})


def is_fixed(policy: str) -> bool:
    return is_baseline_fixed(policy) or policy.startswith("seq:") or policy == "none"


__all__ = ["FIXED_PREFIXES", "IDENTITY", "EvalConfig", "is_baseline_fixed", "is_fixed"]
