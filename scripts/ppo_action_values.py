"""What PPO's reward says about each action at the states an LM policy visits (issue 9's drift diagnosis).

    .venv/bin/python scripts/ppo_action_values.py configs/ppo_mixed64_l002.toml \
        runs/ppo64-l0.02-start/checkpoint/reference.safetensors runs/ppo64-l0.02-start/checkpoint/policy.safetensors

For each adapter (a checkpoint's ``policy.safetensors`` or ``reference.safetensors``: the policy as PPO
started, after its format warm-up) the policy plays the training examples greedily in the config's
environment (the same examples, memo and λ as `adactx train ppo`). At every state it visits, every action of
the grammar is scored exactly as PPO's reward scores a sampled response (`adactx.rl.ppo.DecisionReturns`:
the action, then the same policy finishing the episode greedily; the return from that decision on), and
also with the episode ending right after it (the action, then `answer`). Printed per decision step: how
often each action is the best under each continuation, its mean return, what the policy chose, and the
policy's mean probability of each grammar reply (renormalized over the grammar: how far sampling is
from the greedy choice).
It reads the reward signal, not the trainer: if the greedy continuation makes every non-answer action
worth the same, PPO has nothing to learn from at that state.
"""

from __future__ import annotations

import argparse
import collections
import math
import sys
from pathlib import Path

from adactx.rl.episodes import Job, play
from adactx.rl.lm_policy import LMPolicy, query_ids
from adactx.rl.train_config import PPOTrainConfig
from adactx.rl.training import build_environment, build_policy, load_trainable, policy_meta

from adactx.errors import AdactxError


def action_values(pool, examples, live: LMPolicy, grammar, penalty, forced_after: list[str] | None):
    """Greedy episodes, then per visited state {action: return} with the policy (or ``forced_after``)
    finishing the episode. Returns rows (step, chosen action, {action: return}, {action: probability})."""
    respond = live.respond
    greedy = play(pool, [Job(i, ex) for i, ex in enumerate(examples)], respond, grammar, penalty)
    jobs, keys, probs = [], [], {}
    for ep in greedy:
        for t, p in enumerate(action_probabilities(live, [turn.query for turn in ep.turns], grammar)):
            probs[(ep.job.example_index, t)] = p
        before = [turn.response for turn in ep.turns]
        for t, turn in enumerate(ep.turns):
            for action in grammar:
                forced = [*before[:t], action, *(forced_after or [])]
                jobs.append(Job(ep.job.example_index, ep.job.example, forced=forced, record_from=t))
                keys.append((ep.job.example_index, t, turn.action if turn.parsed else "unparsed", action))
    rows: dict[tuple[int, int], tuple[str, dict]] = {}
    for start in range(0, len(jobs), 32):
        for (ex, t, chosen, action), ep in zip(keys[start:start + 32], play(pool, jobs[start:start + 32], respond,
                                                                           grammar, penalty)):
            rows.setdefault((ex, t), (chosen, {}))[1][action] = ep.turns[0].ret
    return [(key[1], chosen, values, probs[key]) for key, (chosen, values) in sorted(rows.items())], greedy


def action_probabilities(live: LMPolicy, texts: list[str], grammar) -> list[dict]:
    """Per observation text, the policy's probability of replying each grammar entry (then EOS),
    renormalized over the grammar: how far the sampled policy is from its greedy choice."""
    import torch

    tok, out = live.tokenizer, []
    with torch.no_grad():
        for text in texts:
            query = query_ids(tok, text)
            logps = {}
            for action in grammar:
                reply = tok(action, add_special_tokens=False).input_ids + [tok.eos_token_id]
                logits = live.model(input_ids=torch.tensor([query + reply])).logits[0, len(query) - 1:-1]
                logps[action] = float(torch.log_softmax(logits, -1)[torch.arange(len(reply)), reply].sum())
            top = max(logps.values())
            weights = {a: math.exp(v - top) for a, v in logps.items()}
            out.append({a: w / sum(weights.values()) for a, w in weights.items()})
    return out


def report(name: str, rows, greedy, grammar) -> None:
    n = len(greedy)
    mean_return = sum(ep.total for ep in greedy) / max(n, 1)
    tokens = sum(ep.info.get("tokens_computed", 0) for ep in greedy) / max(n, 1)
    print(f"\n## {name}: greedy over {n} training examples: return {mean_return:.3f}, {tokens:.0f} tokens per episode")
    by_step = collections.defaultdict(list)
    for t, chosen, values, _ in rows:
        by_step[min(t, 3)].append((chosen, values))
    short = [a.split()[0] for a in grammar]
    print("| step | states | policy chose | best action (count) | mean return per action | best − chosen |")
    print("|---|---|---|---|---|---|")
    for t, items in sorted(by_step.items()):
        chose = collections.Counter(c.split()[0] for c, _ in items)
        best = collections.Counter(_best(v) for _, v in items)
        means = {a.split()[0]: sum(v[a] for _, v in items) / len(items) for a in grammar}
        gap = sum(max(v.values()) - v.get(_grammar_entry(c, grammar), max(v.values())) for c, v in items) / len(items)
        label = f"{t}" if t < 3 else "3+"
        print(f"| {label} | {len(items)} | {_fmt(chose, short)} | {_fmt(best, short)} | "
              + ", ".join(f"{a} {means[a]:+.3f}" for a in short) + f" | {gap:.3f} |")
    flat = sum(max(v.values()) - min(v.values()) < 1e-9 for _, _, v, _ in rows)
    print(f"states where every action returns the same: {flat} / {len(rows)}")
    for t in sorted({min(t, 3) for t, *_ in rows}):
        probs = [p for u, _, _, p in rows if min(u, 3) == t]
        print(f"step {t if t < 3 else '3+'}: the policy's mean probability of each grammar reply: "
              + ", ".join(f"{a} {sum(p[a] for p in probs) / len(probs):.3f}" for a in grammar))


def _best(values: dict) -> str:
    """The best action's name, or "tie" when another action's return equals it."""
    top = max(values.values())
    names = {a.split()[0] for a, v in values.items() if abs(v - top) < 1e-9} - {"summarize"}  # = answer on QA
    return names.pop() if len(names) == 1 else "tie"


def _grammar_entry(chosen: str, grammar) -> str:
    """The grammar's entry of the chosen action's name (an unparsed reply answers; its penalty is left out)."""
    name = "answer" if chosen == "unparsed" else chosen.split()[0]
    return next((a for a in grammar if a.split()[0] == name), grammar[0])


def _fmt(counter, order) -> str:
    return ", ".join(f"{a} {counter[a]}" for a in [*order, "unparsed", "tie"] if counter.get(a))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("config", help="the PPO run's config (TOML)")
    parser.add_argument("adapters", nargs="+", help="trainable-tensor files (checkpoint policy/reference.safetensors)")
    parser.add_argument("--n", type=int, default=32, help="training examples to play (the config's first N)")
    parser.add_argument("--continuation", choices=("both", "policy", "answer"), default="both",
                        help="score actions with the policy finishing greedily (PPO's default reward), with "
                             "answering at once, or both (the policy's continuation costs most of the time)")
    args = parser.parse_args(argv)
    try:
        cfg = PPOTrainConfig.from_file(args.config)
        pool, examples, memo_stats = build_environment(cfg)
        policy, tokenizer = build_policy(cfg)
        live = LMPolicy(policy, tokenizer, policy_meta(cfg, "ppo", multi_turn=False))
        print(f"config {args.config}: λ = {cfg.lam}, grammar {', '.join(cfg.grammar)}, penalty {cfg.invalid_penalty}")
        for path in args.adapters:
            load_trainable(policy, Path(path))
            for label, after in (("greedy continuation (PPO's reward)", None), ("then answer", ["answer"])):
                if args.continuation != "both" and (after is None) != (args.continuation == "policy"):
                    continue
                rows, greedy = action_values(pool, examples[: args.n], live, cfg.grammar,
                                             cfg.invalid_penalty, after)
                report(f"{path} — {label}", rows, greedy, cfg.grammar)
        print(f"\nmemo: {memo_stats()}")
    except AdactxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
