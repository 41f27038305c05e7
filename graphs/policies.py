"""Policies: what to do next, given an Observation. The baselines every learned policy must beat.

    policy = make_policy("topk-4")
    policy.reset()
    action = policy.act(obs)             # -> Action("retrieve", 4), then Action("answer")

Names (``make_policy``): ``full`` (read from the start until the budget or window is full),
``first-L`` (the first L tokens), ``topk-K`` (the K best chunks), ``refine-K`` (``refine`` K times: the
most relevant sentences of the next-best chunks), ``threshold[-TAU]`` (retrieve until
the draft's mean log-prob passes -TAU), ``rag-full[-kK]`` (top-k, then the full context when the
draft is unsure). Learned policies (``adactx.rl``) implement the same two methods.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Protocol

from adactx.graphs.state import Action, Observation

from adactx.errors import AdactxError


class Policy(Protocol):
    name: str
    needs_draft: bool  # the controller drafts (and pays for it) after each expansion when True

    def reset(self) -> None: ...

    def act(self, obs: Observation) -> Action: ...


def _stop(obs: Observation) -> Action:
    return Action("summarize" if obs.mask.get("summarize") else "answer")


@dataclass
class FirstTokens:
    """Read the document from the start: the first ``limit`` tokens (``None``: as much as fits)."""

    limit: int | None = None
    needs_draft: bool = False

    @property
    def name(self) -> str:
        return "full" if self.limit is None else f"first-{self.limit}"

    def reset(self) -> None:
        self._last = -1

    def act(self, obs: Observation) -> Action:
        if obs.mask.get("summarize"):
            return Action("summarize")
        target = obs.budget if self.limit is None else min(self.limit, obs.budget)
        want = target - obs.context_tokens
        grew = obs.context_tokens != getattr(self, "_last", -1)  # the next chunk no longer fits: stop
        self._last = obs.context_tokens
        if want > 0 and grew and obs.mask.get("extend") and obs.coverage < 1.0:
            return Action("extend", want)
        return _stop(obs)


@dataclass
class TopK:
    """Retrieve the ``k`` best chunks in one step, then answer."""

    k: int = 4
    needs_draft: bool = False

    @property
    def name(self) -> str:
        return f"topk-{self.k}"

    def reset(self) -> None:
        self._done = False

    def act(self, obs: Observation) -> Action:
        if not getattr(self, "_done", False) and obs.mask.get("retrieve"):
            self._done = True
            return Action("retrieve", self.k)
        return _stop(obs)


@dataclass
class FixedRefine:
    """``refine`` ``k`` times (each adds the most relevant sentences of the next-best chunks), then answer."""

    k: int = 2
    needs_draft: bool = False

    @property
    def name(self) -> str:
        return f"refine-{self.k}"

    def reset(self) -> None:
        self._done = 0

    def act(self, obs: Observation) -> Action:
        if getattr(self, "_done", 0) < self.k and obs.mask.get("refine"):
            self._done = getattr(self, "_done", 0) + 1
            return Action("refine")
        return _stop(obs)


@dataclass
class ConfidenceThreshold:
    """Retrieve ``step_k`` chunks at a time until the draft's mean log-prob reaches ``tau``."""

    tau: float = -0.5
    step_k: int = 2
    needs_draft: bool = True

    @property
    def name(self) -> str:
        return f"threshold-{abs(self.tau):g}"

    def reset(self) -> None:
        pass

    def act(self, obs: Observation) -> Action:
        confident = obs.confidence is not None and obs.confidence >= self.tau
        if not confident and obs.mask.get("retrieve"):
            return Action("retrieve", self.step_k)
        return _stop(obs)


@dataclass
class RagThenFull:
    """Top-``k`` retrieval; if the draft is still unsure (< ``tau``), fall back to the full context."""

    k: int = 4
    tau: float = -0.5
    needs_draft: bool = True

    @property
    def name(self) -> str:
        return f"rag-full-k{self.k}"

    def reset(self) -> None:
        self._phase = "rag"

    def act(self, obs: Observation) -> Action:
        phase = getattr(self, "_phase", "rag")
        if phase == "rag" and obs.mask.get("retrieve"):
            self._phase = "check"
            return Action("retrieve", self.k)
        if phase == "check":
            self._phase = "full"
            if obs.confidence is not None and obs.confidence >= self.tau:
                return _stop(obs)
        if obs.mask.get("extend") and obs.context_tokens < obs.budget and obs.coverage < 1.0:
            return Action("extend", obs.budget - obs.context_tokens)
        return _stop(obs)


_PATTERNS = [
    (r"full", lambda m: FirstTokens(None)),
    (r"first-(\d+)", lambda m: FirstTokens(int(m[1]))),
    (r"topk-(\d+)", lambda m: TopK(int(m[1]))),
    (r"refine-(\d+)", lambda m: FixedRefine(int(m[1]))),
    (r"threshold", lambda m: ConfidenceThreshold()),
    (r"threshold-(\d*\.?\d+)", lambda m: ConfidenceThreshold(-float(m[1]))),
    (r"rag-full", lambda m: RagThenFull()),
    (r"rag-full-k(\d+)", lambda m: RagThenFull(int(m[1]))),
]
POLICY_HELP = "full | first-L | topk-K | refine-K | threshold[-TAU] | rag-full[-kK] | learned:DIR (see `adactx train`)"


def make_policy(name: str) -> Policy:
    """A baseline policy by name; an unknown name is an AdactxError that lists the choices."""
    for pattern, build in _PATTERNS:
        m = re.fullmatch(pattern, name.strip())
        if m:
            policy = build(m)
            if isinstance(policy, (TopK, RagThenFull, FixedRefine)) and policy.k < 1:
                raise AdactxError(f"--policy {name}: k must be >= 1")
            if isinstance(policy, FirstTokens) and policy.limit is not None and policy.limit < 1:
                raise AdactxError(f"--policy {name}: L must be >= 1")
            policy.reset()
            return policy
    raise AdactxError(f"unknown policy {name!r}; choose from {POLICY_HELP}")
