"""Episode reward: task score minus a price on the context read, plus the ablation variants.

    cfg = RewardConfig(lam=0.05)                       # 0.05 score points per 1k tokens computed
    r = episode_reward(score=0.4, usage=usage, context_tokens=1800, budget=4096, cfg=cfg)

Variants (``RewardConfig.variant``):

    linear             score - lam * cost
    hard_budget        score if the episode's cost stays within ``hard_budget`` cost units, else
                       ``-over_budget_penalty`` (no per-token price: the budget is the constraint)
    min_context_bonus  linear, plus ``bonus * (1 - context_tokens / budget)`` when the answer counts as
                       correct (score >= ``correct_threshold``): a correct answer from less context earns more

Cost (``RewardConfig.cost``): ``tokens`` = tokens the reader computed (document, prompt, draft tails and
generated tokens fed back), in units of ``cost_scale`` (1000); ``flops`` = forward FLOPs in units of
``cost_scale`` (set it to e.g. 1e12). The environment pays the cost step by step (``step_cost``) and the
score at the end, so an episode's rewards sum to :func:`episode_reward`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from adactx.errors import AdactxError
from adactx.types import Usage

VARIANTS = ("linear", "hard_budget", "min_context_bonus")
COSTS = ("tokens", "flops")


@dataclass
class RewardConfig:
    lam: float = field(
        default=0.0, metadata={"help": "price per cost unit (score points per 1k tokens by default)"}
    )
    cost: str = field(
        default="tokens", metadata={"help": "what is priced: tokens (computed by the reader) or flops"}
    )
    cost_scale: float = field(default=1000.0, metadata={"help": "tokens (or FLOPs) per cost unit"})
    variant: str = field(default="linear", metadata={"help": "linear | hard_budget | min_context_bonus"})
    hard_budget: float = field(
        default=4.0, metadata={"help": "hard_budget: most cost units an episode may spend"}
    )
    over_budget_penalty: float = field(
        default=1.0, metadata={"help": "hard_budget: reward when over the budget"}
    )
    bonus: float = field(default=0.2, metadata={"help": "min_context_bonus: bonus at zero context"})
    correct_threshold: float = field(
        default=0.5, metadata={"help": "min_context_bonus: score that counts as correct"}
    )

    def __post_init__(self) -> None:
        if self.variant not in VARIANTS:
            raise AdactxError(
                f"RewardConfig.variant: unknown {self.variant!r}; choose from {', '.join(VARIANTS)}"
            )
        if self.cost not in COSTS:
            raise AdactxError(f"RewardConfig.cost: unknown {self.cost!r}; choose from {', '.join(COSTS)}")
        for name in ("lam", "hard_budget", "over_budget_penalty", "bonus", "correct_threshold"):
            if float(getattr(self, name)) < 0:
                raise AdactxError(f"RewardConfig.{name}: must be >= 0, got {getattr(self, name)}")
        if float(self.cost_scale) <= 0:
            raise AdactxError(f"RewardConfig.cost_scale: must be > 0, got {self.cost_scale}")


def cost_units(usage: Usage, cfg: RewardConfig) -> float:
    """The episode's cost in ``cfg`` units (tokens computed or FLOPs, divided by ``cost_scale``)."""
    raw = usage.tokens_computed if cfg.cost == "tokens" else usage.flops
    return float(raw) / cfg.cost_scale


def step_cost(before: Usage, after: Usage, cfg: RewardConfig) -> float:
    """The (negative) reward a step pays for what it made the reader compute."""
    if cfg.variant == "hard_budget":
        return 0.0
    return -cfg.lam * (cost_units(after, cfg) - cost_units(before, cfg))


def terminal_reward(score: float, usage: Usage, context_tokens: int, budget: int, cfg: RewardConfig) -> float:
    """What the final step earns on top of the step costs already paid."""
    if cfg.variant == "hard_budget":
        return score if cost_units(usage, cfg) <= cfg.hard_budget else -cfg.over_budget_penalty
    reward = score
    if cfg.variant == "min_context_bonus" and score >= cfg.correct_threshold:
        reward += cfg.bonus * max(0.0, 1.0 - context_tokens / max(budget, 1))
    return reward


def episode_reward(score: float, usage: Usage, context_tokens: int, budget: int, cfg: RewardConfig) -> float:
    """The sum of an episode's rewards, from its outcome (used by the oracle for any λ after the fact)."""
    return terminal_reward(score, usage, context_tokens, budget, cfg) + step_cost(Usage(), usage, cfg)


__all__ = [
    "COSTS",
    "VARIANTS",
    "RewardConfig",
    "cost_units",
    "episode_reward",
    "step_cost",
    "terminal_reward",
]
