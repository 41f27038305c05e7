import pytest
from adactx.rl.rewards import RewardConfig, episode_reward, step_cost, terminal_reward

from adactx.errors import AdactxError
from adactx.types import Usage


def test_linear_reward_prices_tokens_per_thousand():
    usage = Usage(tokens_computed=2000, flops=4e12)
    assert episode_reward(0.5, usage, 1800, 4096, RewardConfig(lam=0.1)) == pytest.approx(0.5 - 0.2)
    flops = RewardConfig(lam=0.1, cost="flops", cost_scale=1e12)
    assert episode_reward(0.5, usage, 1800, 4096, flops) == pytest.approx(0.5 - 0.4)


def test_step_costs_and_terminal_reward_sum_to_the_episode_reward():
    cfg = RewardConfig(lam=0.05, variant="min_context_bonus", bonus=0.2)
    a, b = Usage(tokens_computed=300), Usage(tokens_computed=1300)
    total = step_cost(Usage(), a, cfg) + step_cost(a, b, cfg) + terminal_reward(0.8, b, 1000, 4000, cfg)
    assert total == pytest.approx(episode_reward(0.8, b, 1000, 4000, cfg))
    assert total == pytest.approx(0.8 - 0.05 * 1.3 + 0.2 * 0.75)


def test_hard_budget_variant():
    cfg = RewardConfig(variant="hard_budget", hard_budget=1.0)
    assert episode_reward(0.7, Usage(tokens_computed=900), 0, 1, cfg) == 0.7
    assert episode_reward(0.7, Usage(tokens_computed=1100), 0, 1, cfg) == -1.0


@pytest.mark.parametrize(
    "kw,field",
    [
        ({"variant": "x"}, "variant"),
        ({"lam": -1}, "lam"),
        ({"cost": "s"}, "cost"),
        ({"cost_scale": 0}, "cost_scale"),
    ],
)
def test_config_names_the_bad_field(kw, field):
    with pytest.raises(AdactxError, match=f"RewardConfig.{field}"):
        RewardConfig(**kw)
