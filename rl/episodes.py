"""Episodes played by a text policy: the controller environment seen as text in, action text out.

    env = ControllerTextEnv(context_env, grammar)           # or any TextEnv (the tests' toy env)
    jobs = [Job(i, example) for i, example in enumerate(batch)]
    episodes = play(EnvPool(make_env), jobs, respond, grammar, penalty=0.5)
    episodes[0].turns[0].query, .response, .reward, .ret   # ret: the return from that decision on

``respond(texts) -> responses`` is the policy (sampling during rollouts, greedy at inference). The jobs are
played in lockstep so the policy generates for all live episodes in one batch per decision. A response
the grammar cannot parse answers at once and pays ``penalty``. ``Job.forced`` replays responses before the
policy takes over; ``Job.record_from`` says from which decision on turns are recorded, so the PPO reward
(``adactx.rl.ppo``) gets "the return from this decision on" by replaying the decisions that led to it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from adactx.graphs.state import Action
from adactx.rl.observation_text import action_text, parse_response, render_observation

MAX_TURNS = 64  # a safety net: environments end episodes themselves (step limit, budget)


class TextEnv(Protocol):
    """One episode at a time: text observations, ``Action`` in."""

    def reset(self, example: Any) -> str: ...

    def step(self, action: Action) -> tuple[str, float, bool]:
        """-> (next observation text, "" when done; reward; done)."""
        ...

    def episode_info(self) -> dict:
        """What the finished episode cost and scored (``tokens_computed``, ``score``), for logging."""
        ...


class ControllerTextEnv:
    """A :class:`adactx.rl.env.ContextEnv` rendered with :func:`render_observation`."""

    def __init__(self, env, grammar: tuple[str, ...]):
        self.env, self.grammar = env, grammar

    def reset(self, example) -> str:
        self.env.reset(options={"example": example})
        return render_observation(self.env.observation, self.grammar)

    def step(self, action: Action) -> tuple[str, float, bool]:
        _, reward, terminated, truncated, _ = self.env.step(action)
        done = terminated or truncated
        return ("" if done else render_observation(self.env.observation, self.grammar)), reward, done

    def episode_info(self) -> dict:
        outcome = self.env.outcome or {}
        return {
            "tokens_computed": outcome.get("usage", {}).get("tokens_computed", 0),
            "score": outcome.get("score", 0.0),
        }


class EnvPool:
    """As many environments as episodes played at once, built on demand by ``factory``."""

    def __init__(self, factory: Callable[[], TextEnv]):
        self.factory, self.envs = factory, []

    def take(self, n: int) -> list[TextEnv]:
        while len(self.envs) < n:
            self.envs.append(self.factory())
        return self.envs[:n]


@dataclass
class Turn:
    query: str
    response: str
    action: str  # what ran: the parsed action, or "answer" when unparseable
    parsed: bool
    reward: float  # this decision's own reward (environment step + any penalty)
    ret: float = 0.0  # the return from this decision on (filled when the episode ends)


@dataclass
class Job:
    example_index: int
    example: Any
    forced: list[str] = field(default_factory=list)  # responses replayed before the policy acts
    record_from: int = 0  # decisions before this index are replayed, not recorded


@dataclass
class Episode:
    job: Job
    turns: list[Turn] = field(default_factory=list)
    info: dict = field(default_factory=dict)

    @property
    def total(self) -> float:
        return sum(t.reward for t in self.turns)


def take_action(env: TextEnv, query: str, response: str, grammar, penalty: float) -> tuple[str, bool, Turn]:
    """Run one response in ``env``: the parsed action, or answer at once with ``-penalty``."""
    action = parse_response(response, grammar)
    parsed = action is not None
    action = action or Action("answer")
    text, reward, done = env.step(action)
    reward = float(reward) - (0.0 if parsed else penalty)
    return text, done, Turn(query, response, action_text(action), parsed, reward)


def _fill_returns(episode: Episode) -> None:
    ret = 0.0
    for turn in reversed(episode.turns):
        ret += turn.reward
        turn.ret = ret


def play(
    pool: EnvPool,
    jobs: Sequence[Job],
    respond: Callable[[list[str]], list[str]],
    grammar: tuple[str, ...],
    penalty: float,
) -> list[Episode]:
    """Play every job to the end in lockstep (one ``respond`` call per decision for all live episodes)."""
    envs = pool.take(len(jobs))
    episodes = [Episode(job) for job in jobs]
    texts = [env.reset(job.example) for env, job in zip(envs, jobs)]
    live = list(range(len(jobs)))
    for t in range(MAX_TURNS + 1):
        if not live:
            break
        policy_rows = [i for i in live if t >= len(jobs[i].forced)]
        generated = dict(zip(policy_rows, respond([texts[i] for i in policy_rows]) if policy_rows else []))
        still = []
        for i in live:
            response = jobs[i].forced[t] if t < len(jobs[i].forced) else generated[i]
            if t == MAX_TURNS:
                response = "answer"
            query = texts[i]
            texts[i], done, turn = take_action(envs[i], query, response, grammar, penalty)
            if t >= jobs[i].record_from:
                episodes[i].turns.append(turn)
            if done:
                episodes[i].info = envs[i].episode_info()
            else:
                still.append(i)
        live = still
    for episode in episodes:
        _fill_returns(episode)
    return episodes


def action_counts(episodes: Sequence[Episode]) -> dict[str, int]:
    """How often each action name was chosen (``unparsed`` for responses the grammar rejected)."""
    counts: dict[str, int] = {}
    for episode in episodes:
        for turn in episode.turns:
            key = turn.action.split()[0] if turn.parsed else "unparsed"
            counts[key] = counts.get(key, 0) + 1
    return counts


__all__ = [
    "ControllerTextEnv",
    "EnvPool",
    "Episode",
    "Job",
    "TextEnv",
    "Turn",
    "action_counts",
    "play",
    "take_action",
]
