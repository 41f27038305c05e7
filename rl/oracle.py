"""The oracle: the best action sequence per example in hindsight, and its honest cross-fitted cousin.

    nodes = explore(env, example, ("retrieve-2", "extend-1024"), depth=2)   # {label: outcome}
    best = oracle_choice(candidates, RewardConfig(lam=0.05), budget=4096)   # max reward over candidates
    cf = crossfit(table, fixed_settings, features, RewardConfig(lam=0.05), budget=4096)

``explore`` plays every action sequence of the bounded tree (each action from ``actions``, at most
``depth`` of them, then answer) through the environment, so every node costs one memoized reader call
(``adactx.rl.memo``): nodes that reach the same context share it. A node whose action is masked or adds
nothing equals its parent (the env would have answered there), so it inherits the parent's outcome and
is not expanded. The oracle at λ picks, per example, the candidate with the highest reward
(``adactx.rl.rewards.episode_reward``) among the tree's nodes and every policy played on that example,
so it bounds every policy in the run from above.

That per-example maximum over noisy outcomes overstates what a policy can learn. ``crossfit`` gives the
honest estimate: a simple rule - the best *fixed* setting per bucket of (task, document length above or
below a balanced cut (about the median), first retrieval margin likewise), chosen on one half of the examples
and scored on the other half, both ways round, averaged over ``repeats`` random halvings of the
documents (questions on one document stay on one side). The best
single fixed setting gets the same treatment (one bucket), so the two are compared on equal terms.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

import numpy as np
from adactx.rl.rewards import RewardConfig, episode_reward

from adactx.types import Usage

ROOT = "none"


def node_label(actions: tuple[str, ...]) -> str:
    return "seq:" + ">".join(actions) if actions else ROOT


def explore(
    env, example, actions: tuple[str, ...], depth: int, done: dict | None = None, on_node=None
) -> dict:
    """Outcomes of every node of the tree (label -> outcome); ``done`` holds nodes already computed."""
    from adactx.rl.env import play_actions

    done = dict(done or {})
    out: dict[str, dict] = {}

    def visit(seq: tuple[str, ...], parent: dict | None, inherited: bool) -> None:
        label = node_label(seq)
        outcome = done.get(label)
        if outcome is None:
            if not inherited:
                outcome = play_actions(env, example, list(seq))
            if outcome is None:  # masked, or added nothing: the env would have answered at the parent
                outcome = {**parent, "same_as_parent": True}
            if on_node:
                on_node(label, outcome)
        out[label] = outcome
        if len(seq) < depth:
            for a in actions:
                visit(seq + (a,), outcome, bool(outcome.get("same_as_parent")))

    visit((), None, False)
    return out


def tree_labels(actions: tuple[str, ...], depth: int) -> list[str]:
    labels = [ROOT]
    frontier = [()]
    for _ in range(depth):
        frontier = [seq + (a,) for seq in frontier for a in actions]
        labels += [node_label(s) for s in frontier]
    return labels


def reward_of(outcome: dict, cfg: RewardConfig, budget: int) -> float:
    return episode_reward(
        outcome["score"], Usage.from_dict(outcome["usage"]), outcome["context_tokens"], budget, cfg
    )


def oracle_choice(candidates: dict[str, dict], cfg: RewardConfig, budget: int) -> tuple[str, dict]:
    """(label, outcome) of the candidate with the highest reward; ties go to the cheaper one."""

    def key(item):
        _label, outcome = item
        return (reward_of(outcome, cfg, budget), -outcome["usage"]["tokens_computed"])

    return max(candidates.items(), key=key)


def balanced_cut(values: np.ndarray) -> float:
    """A threshold between two observed values that splits ``values`` closest to half and half."""
    u = np.unique(values)
    if u.size == 1:
        return float(u[0])
    mids = (u[:-1] + u[1:]) / 2.0
    above = np.array([(values > m).sum() for m in mids])
    return float(mids[int(np.argmin(np.abs(above - values.size / 2.0)))])


def document_halves(doc: np.ndarray, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Example indices split in two by a random half of the distinct documents in ``doc``."""
    docs = np.unique(doc)
    first = np.isin(doc, rng.permutation(docs)[: docs.size // 2])
    return np.flatnonzero(first), np.flatnonzero(~first)


@dataclass
class CrossFit:
    """Per-example out-of-fold values (averaged over repeats) for the bucket rule and the single best."""

    rule_reward: np.ndarray
    rule_score: np.ndarray
    rule_tokens: np.ndarray
    fixed_reward: np.ndarray
    fixed_score: np.ndarray
    fixed_tokens: np.ndarray
    choices: dict  # setting -> how often the rule chose it (over test examples and repeats)


def crossfit(
    table: dict[str, dict[str, dict]],
    settings: list[str],
    features: dict[str, dict],
    cfg: RewardConfig,
    budget: int,
    repeats: int = 20,
    seed: int = 0,
    min_bucket: int = 4,
    clusters: dict[str, str] | None = None,
) -> CrossFit:
    """``table[example_id][setting]`` -> outcome; ``features[example_id]`` -> task, doc_tokens, margin;
    ``clusters[example_id]`` -> document id: the halves split documents, so no document is on both sides."""
    ids = sorted(table)
    n = len(ids)
    doc = np.array([(clusters or {}).get(e, e) for e in ids])
    reward = np.array([[reward_of(table[e][s], cfg, budget) for s in settings] for e in ids])
    score = np.array([[table[e][s]["score"] for s in settings] for e in ids])
    tokens = np.array([[table[e][s]["usage"]["tokens_computed"] for s in settings] for e in ids], dtype=float)
    length = np.array([features[e]["doc_tokens"] for e in ids], dtype=float)
    margin = np.array([features[e]["margin"] for e in ids], dtype=float)
    task = [features[e]["task"] for e in ids]
    sums = {k: np.zeros(n) for k in ("rr", "rs", "rt", "fr", "fs", "ft")}
    counts = np.zeros(n)
    choices: dict[str, int] = defaultdict(int)
    rng = np.random.default_rng(seed)
    for _ in range(repeats):
        halves = document_halves(doc, rng)
        for train, test in ((halves[0], halves[1]), (halves[1], halves[0])):
            if len(train) == 0 or len(test) == 0:
                continue
            len_cut, margin_cut = balanced_cut(length[train]), balanced_cut(margin[train])

            def bucket(i, len_cut=len_cut, margin_cut=margin_cut):
                return (task[i], bool(length[i] > len_cut), bool(margin[i] > margin_cut))

            best_all = int(np.argmax(reward[train].mean(axis=0)))
            groups: dict[tuple, list[int]] = defaultdict(list)
            for i in train:
                groups[bucket(i)].append(i)
            rule = {
                b: int(np.argmax(reward[idx].mean(axis=0))) if len(idx) >= min_bucket else best_all
                for b, idx in groups.items()
            }
            for i in test:
                j = rule.get(bucket(i), best_all)
                choices[settings[j]] += 1
                sums["rr"][i] += reward[i, j]
                sums["rs"][i] += score[i, j]
                sums["rt"][i] += tokens[i, j]
                sums["fr"][i] += reward[i, best_all]
                sums["fs"][i] += score[i, best_all]
                sums["ft"][i] += tokens[i, best_all]
                counts[i] += 1
    counts = np.maximum(counts, 1)
    avg = {k: v / counts for k, v in sums.items()}
    return CrossFit(avg["rr"], avg["rs"], avg["rt"], avg["fr"], avg["fs"], avg["ft"], dict(choices))


__all__ = [
    "ROOT",
    "CrossFit",
    "crossfit",
    "document_halves",
    "explore",
    "node_label",
    "oracle_choice",
    "reward_of",
    "tree_labels",
]
