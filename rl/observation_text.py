"""The controller's observation as a language-model policy's query, and the action grammar it answers in.

    text = render_observation(obs, grammar=("retrieve 2", "extend 1024", "refine", "answer"))
    action = parse_response("retrieve 3", grammar)        # -> Action("retrieve", 3)
    parse_response("hello", grammar)                       # -> None: unparseable (the caller answers + penalty)

One function renders the observation, for training (PPO queries, GRPO turns) and for inference
(``adactx.rl.lm_policy.LMPolicy``), so what a trained policy sees at inference is what it saw in training.
The text is kept short on purpose: the trainers' cost is dominated by re-reading the prompt (see
docs/policies.md). ``OBSERVATION_FORMAT`` names this rendering in a saved policy's ``policy.json``; change
it whenever the rendering changes.

Grammar: a response is ``NAME [AMOUNT]`` with NAME one of the grammar's action names (``retrieve``,
``extend``, ``refine``, ``answer``, ``summarize``) and AMOUNT a positive integer (chunks for retrieve /
refine, tokens for extend). The first action name on the response's first line counts, with the number
right after it if any ("I would retrieve 2 more" -> retrieve 2): a small instruct model wraps the action
in words. A first line without an action name, or whose first one is outside the grammar, is unparseable.
"""

from __future__ import annotations

import re

from adactx.graphs.state import ACTIONS, Action, Observation
from adactx.rl.env import parse_action

from adactx.errors import AdactxError

OBSERVATION_FORMAT = "obs-text-v1"
DEFAULT_GRAMMAR: tuple[str, ...] = ("retrieve 2", "extend 1024", "refine", "answer", "summarize")
_RESPONSE = re.compile(r"\s*([a-z]+)(?:[ \t]+(\d+))?")
_NAMED = re.compile(r"\b(retrieve|extend|refine|answer|summarize)\b(?:[ \t]+(\d+))?")


def validate_grammar(grammar: tuple[str, ...] | list[str], owner: str = "grammar") -> tuple[str, ...]:
    """Each entry is ``NAME`` or ``NAME AMOUNT`` with a known action name; returns the tuple."""
    grammar = tuple(grammar)
    if not grammar:
        raise AdactxError(f"{owner}: name at least one action")
    for entry in grammar:
        m = _RESPONSE.fullmatch(entry.strip())
        if m is None or m[1] not in ACTIONS:
            raise AdactxError(f"{owner}: {entry!r} is not 'NAME [AMOUNT]' with NAME in {', '.join(ACTIONS)}")
    return grammar


def grammar_names(grammar: tuple[str, ...]) -> set[str]:
    return {entry.split()[0] for entry in grammar}


def parse_response(text: str, grammar: tuple[str, ...] = DEFAULT_GRAMMAR) -> Action | None:
    """The action a response names, or None when it names none the grammar allows."""
    first_line = text.strip().lower().split("\n", 1)[0]
    m = _NAMED.search(first_line)
    if m is None or m[1] not in grammar_names(grammar):
        return None
    if m[2] is not None and int(m[2]) < 1:
        return None
    return parse_action(f"{m[1]}-{int(m[2])}" if m[2] else m[1])


def action_text(action: Action) -> str:
    """The grammar's spelling of an action (``Action("retrieve", 2)`` -> ``"retrieve 2"``)."""
    return action.name if action.amount is None else f"{action.name} {action.amount}"


def _confidence(obs: Observation) -> str:
    if obs.confidence is None:
        return "none"
    change = "" if obs.confidence_delta is None else f", change {obs.confidence_delta:+.2f}"
    return f"{obs.confidence:.2f}{change}"


def render_observation(obs: Observation, grammar: tuple[str, ...] = DEFAULT_GRAMMAR) -> str:
    """The policy's query text: question, task, lengths, what was read, next candidates, draft, choices."""
    read = ",".join(str(c) for c in obs.read_chunks[:12]) or "nothing"
    if len(obs.read_chunks) > 12:
        read += ",..."
    lines = [
        f"Question: {obs.question}",
        f"Task: {obs.task}. Document: {obs.doc_tokens} tokens, {obs.n_chunks} chunks.",
        (
            f"Read: {obs.context_tokens} tokens ({obs.coverage:.0%}), chunks {read}. "
            f"Budget left: {obs.budget_left}. Step {obs.steps_taken}/{obs.max_steps}."
        ),
    ]
    for words, score in obs.candidates:
        lines.append(f"Next [{score:.2f}]: {words}")
    if obs.draft or obs.confidence is not None:
        lines.append(f"Draft ({_confidence(obs)}): {obs.draft.strip()[:80]}")
    valid = [g for g in grammar if obs.mask.get(g.split()[0], False)] if obs.mask else list(grammar)
    lines.append("Reply with one action: " + " | ".join(valid or grammar))
    return "\n".join(lines)


__all__ = [
    "DEFAULT_GRAMMAR",
    "OBSERVATION_FORMAT",
    "action_text",
    "grammar_names",
    "parse_response",
    "render_observation",
    "validate_grammar",
]
