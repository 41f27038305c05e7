"""A Gymnasium environment over the controller: one episode = one example's query.

    env = ContextEnv(examples, reader, EnvConfig(budget=4096), RewardConfig(lam=0.05))
    obs, info = env.reset(options={"index": 0})       # obs: feature vector; info["text"]: text rendering
    obs, reward, terminated, truncated, info = env.step(env.action_index("retrieve-2"))
    info["action_mask"]                               # bool per action in EnvConfig.actions

The environment holds a ``ControllerState`` and a ``ControllerContext`` and advances them with the very
functions the LangGraph controller's nodes call (``adactx.graphs.actions``: ``observe``, ``apply_action``,
``valid_or_answer``), so a policy trained here runs unchanged in the graph. ``step`` accepts an index into
``EnvConfig.actions`` (for learned policies) or an ``Action`` (for the baselines of
``adactx.graphs.policies``, whose amounts vary); a masked action stops the episode with an answer, as in
the graph. Rewards: each step pays ``-lam * cost`` of what it made the reader compute, the answer step
earns the task score (``adactx.metrics.score``); see ``adactx.rl.rewards``.

``run_episode(env, policy, example)`` plays one baseline policy through and returns the outcome dict.
"""

from __future__ import annotations

import itertools
import time
from dataclasses import dataclass, field, fields
from typing import TYPE_CHECKING, ClassVar

import gymnasium as gym
import numpy as np
from adactx.graphs.actions import SUMMARY_TASKS, apply_action, observe, valid_or_answer
from adactx.graphs.context import ControllerContext, ControllerSettings
from adactx.graphs.state import ACTIONS, Action, Observation, initial_state
from adactx.rl.rewards import RewardConfig, step_cost, terminal_reward
from adactx.rl.settings import EpisodeSettings

from adactx.config import DEFAULT_ENCODER
from adactx.errors import AdactxError
from adactx.types import Example, Step, Usage

if TYPE_CHECKING:
    from adactx.retrieval.indexed import IndexedDocument

DEFAULT_ACTIONS = ("retrieve", "extend", "refine", "answer", "summarize")


def parse_action(spec: str) -> Action:
    """``"retrieve-2"`` -> ``Action("retrieve", 2)``; ``"answer"`` -> ``Action("answer")``."""
    name, _, amount = spec.strip().partition("-")
    if name not in ACTIONS:
        raise AdactxError(f"action {spec!r}: unknown name {name!r}; choose from {', '.join(ACTIONS)}")
    if amount and not amount.isdigit():
        raise AdactxError(f"action {spec!r}: the amount after '-' must be a positive integer")
    return Action(name, int(amount) if amount else None)


@dataclass
class EnvConfig(EpisodeSettings):
    """An episode's settings (``EpisodeSettings``: controller + document, RL defaults) plus the env's own."""

    draft: bool = field(default=True, metadata={"help": "draft after each expansion (confidence features)"})
    actions: tuple[str, ...] = field(default=DEFAULT_ACTIONS, metadata={"help": "the discrete action set"})

    def __post_init__(self) -> None:
        super().__post_init__()
        self.actions = tuple(self.actions)
        if not self.actions:
            raise AdactxError("EnvConfig.actions: need at least one action")
        for spec in self.actions:
            parse_action(spec)

    def settings(self) -> ControllerSettings:
        return self.controller_settings()

    def to_dict(self) -> dict:
        return {f.name: getattr(self, f.name) for f in fields(self)}


class Workspace:
    """Chunks and indexes each document once (the index is also cached on disk by ``cached_index``)."""

    def __init__(self, reader, encoder, config: EnvConfig, cache_dir=None):
        self.reader, self.encoder, self.config, self.cache_dir = reader, encoder, config, cache_dir
        self._docs: dict[str, IndexedDocument] = {}

    def prepare(self, example: Example) -> IndexedDocument:
        from adactx.retrieval.indexed import index_document

        doc = example.document
        key = f"{doc.doc_id}:{len(doc.text)}"
        if key not in self._docs:
            if len(self._docs) > 64:
                self._docs.pop(next(iter(self._docs)))
            settings = self.config.document_settings()
            self._docs[key] = index_document(doc, self.reader.count_tokens, settings, self.encoder, self.cache_dir)
        return self._docs[key]


@dataclass
class _DraftSwitch:
    """Stands in for a policy in the controller context: only says whether to draft."""

    needs_draft: bool
    name: str = "env"


def _usage_of(steps: list[dict]) -> Usage:
    total = Usage()
    for step in steps:
        total = total + Step.from_dict(step).usage
    return total


class ContextEnv(gym.Env):
    """Gymnasium API over the controller's state and actions (see the module docstring)."""

    metadata: ClassVar[dict] = {"render_modes": ["ansi"]}

    def __init__(
        self,
        examples: list[Example],
        reader,
        config: EnvConfig | None = None,
        reward: RewardConfig | None = None,
        encoder=None,
        workspace: Workspace | None = None,
        scorer=None,
    ):
        self.examples = list(examples)
        self.reader = reader
        self.config = config or EnvConfig()
        self.reward_config = reward or RewardConfig()
        if workspace is None:
            if encoder is None:
                from adactx.retrieval.encoders import load_encoder

                encoder = load_encoder(DEFAULT_ENCODER)
            workspace = Workspace(reader, encoder, self.config)
        self.workspace = workspace
        self.scorer = scorer or _default_scorer
        self.action_specs = list(self.config.actions)
        self.action_space = gym.spaces.Discrete(len(self.action_specs))
        dim = len(_blank_observation().to_vector())
        self.observation_space = gym.spaces.Box(-np.inf, np.inf, shape=(dim,), dtype=np.float32)
        self._episodes = itertools.count()
        self.state: dict | None = None
        self.ctx: ControllerContext | None = None
        self.example: Example | None = None
        self.outcome: dict | None = None
        self._obs: Observation | None = None

    # --- Gymnasium API -----------------------------------------------------------------------
    def reset(self, *, seed: int | None = None, options: dict | None = None):
        super().reset(seed=seed)
        options = options or {}
        example = options.get("example")
        if example is None:
            i = options.get("index")
            i = int(self.np_random.integers(len(self.examples))) if i is None else int(i)
            example = self.examples[i]
        policy = options.get("policy") or _DraftSwitch(self.config.draft)
        prepared = self.workspace.prepare(example)
        self.example = example
        self.ctx = ControllerContext(
            reader=self.reader,
            tree=prepared.tree,
            index=prepared.index,
            policy=policy,
            settings=self.config.settings(),
        )
        run_id = f"{example.example_id}#{next(self._episodes)}"
        self.state = dict(initial_state(run_id, example.query, example.task))
        self.outcome = None
        self._t0 = time.perf_counter()
        self._obs = observe(self.state, self.ctx)
        return self._vector(), self._info()

    def step(self, action: int | str | Action):
        if self.state is None or self.outcome is not None:
            raise AdactxError("ContextEnv.step: call reset() first (the episode is over or never started)")
        chosen, note = valid_or_answer(self._to_action(action), self._obs.mask, self.state["task"])
        before = _usage_of(self.state["steps"])
        update = apply_action(self.state, self.ctx, chosen)
        self.state.update(update)
        after = _usage_of(self.state["steps"])
        reward = step_cost(before, after, self.reward_config)
        terminated = chosen.name in ("answer", "summarize")
        if terminated:
            reward += self._finish(after, note)
        else:
            self._obs = observe(self.state, self.ctx)
        return self._vector(), float(reward), terminated, False, self._info()

    def action_masks(self) -> np.ndarray:
        """Bool per entry of ``EnvConfig.actions`` (the name's validity; amounts do not change it)."""
        mask = self._obs.mask if self._obs is not None else {}
        return np.array([mask.get(parse_action(s).name, False) for s in self.action_specs], dtype=bool)

    def render(self) -> str:
        return self._obs.to_text() if self._obs is not None else ""

    # --- helpers -----------------------------------------------------------------------------
    def action_index(self, spec: str) -> int:
        if spec not in self.action_specs:
            raise AdactxError(
                f"action {spec!r} is not in this env's actions ({', '.join(self.action_specs)})"
            )
        return self.action_specs.index(spec)

    @property
    def observation(self) -> Observation:
        return self._obs

    def _to_action(self, action: int | str | Action) -> Action:
        if isinstance(action, Action):
            return action
        if isinstance(action, str):
            return parse_action(action)
        return parse_action(self.action_specs[int(action)])

    def _vector(self) -> np.ndarray:
        return np.asarray(self._obs.to_vector(), dtype=np.float32)

    def _info(self) -> dict:
        info = {"text": self._obs.to_text(), "action_mask": self.action_masks(), "observation": self._obs}
        if self.outcome is not None:
            info["outcome"] = self.outcome
        return info

    def _finish(self, usage: Usage, note: str) -> float:
        state, ex = self.state, self.example
        metrics = self.scorer(ex, state.get("answer", ""))
        steps = state["steps"]
        if len(steps) - 1 >= self.config.max_steps:
            reason = "step limit"
        elif note:
            reason = f"budget or document exhausted ({note})"
        else:
            reason = "policy stopped"
        self.outcome = {
            "example_id": ex.example_id,
            "task": ex.task,
            "answer": state.get("answer", ""),
            "score": float(metrics["score"]),
            "metrics": {k: v for k, v in metrics.items() if isinstance(v, (int, float))},
            "usage": usage.to_dict(),
            "context_tokens": int(state.get("context_tokens", 0)),
            "doc_tokens": int(self.ctx.tree.total_tokens),
            "pieces": [[p["start"], p["end"]] for p in state.get("pieces", [])],
            "steps": [
                {
                    "action": s["action"],
                    "context_tokens": s["context_tokens"],
                    "chunks_added": s["chunks_added"],
                    "confidence": s["confidence"],
                    "tokens_computed": s["usage"]["tokens_computed"],
                }
                for s in steps
            ],
            "stop_reason": reason,
            "wall_s": time.perf_counter() - self._t0,
        }
        self.ctx.release(state["run_id"])
        return terminal_reward(
            self.outcome["score"],
            usage,
            self.outcome["context_tokens"],
            self.config.budget,
            self.reward_config,
        )


def _default_scorer(example: Example, answer: str) -> dict:
    from adactx.metrics import score

    return score(example.task, answer, example.references, example.options)


def _blank_observation() -> Observation:
    return Observation(
        task="qa",
        doc_tokens=0,
        n_chunks=0,
        context_tokens=0,
        budget=1,
        steps_taken=0,
        max_steps=1,
        top_scores=[],
        margin=0.0,
        coverage=0.0,
        confidence=None,
        confidence_delta=None,
    )


def run_episode(env: ContextEnv, policy, example: Example) -> dict:
    """Play ``policy`` (a baseline or learned policy with ``reset``/``act``) on one example."""
    _, info = env.reset(options={"example": example, "policy": policy})
    policy.reset()
    total, done = 0.0, False
    while not done:
        _, reward, terminated, truncated, info = env.step(policy.act(info["observation"]))
        total += reward
        done = terminated or truncated
    return {**env.outcome, "return": total}


def play_actions(env: ContextEnv, example: Example, actions: list[str], draft: bool = False) -> dict | None:
    """Play a fixed action sequence then stop (the oracle's tree nodes). None when an action is masked
    or adds nothing (that node equals its parent)."""
    stop = "summarize" if example.task in SUMMARY_TASKS else "answer"
    env.reset(options={"example": example, "policy": _DraftSwitch(draft)})
    total = 0.0
    for spec in actions:
        if not env.observation.mask.get(parse_action(spec).name, False):
            env.ctx.release(env.state["run_id"])
            return None
        before = env.state.get("context_tokens", 0)
        _, reward, _, _, _ = env.step(parse_action(spec))
        total += reward
        if env.state.get("context_tokens", 0) == before:
            env.ctx.release(env.state["run_id"])
            return None
    _, reward, _, _, _ = env.step(Action(stop))
    return {**env.outcome, "return": total + reward}


__all__ = ["ContextEnv", "EnvConfig", "Workspace", "parse_action", "play_actions", "run_episode"]
