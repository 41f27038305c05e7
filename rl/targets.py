"""The targets of issue 9, read from run directories: learned policies against the val-chosen best fixed setting.

    result = policy_targets("runs/mixed1k-test", train_dirs=["runs/features1k-l0.02"])
    print(render_targets(result))          # scripts/policy_targets.py RUN [--train DIR ...]

``RUN`` is an ``adactx eval --select-on SPLIT`` run directory whose ``--policies`` include ``learned:DIR``
policies: its ``selection.json`` names the best fixed setting per λ (chosen on the selection split), its
``select-SPLIT/records.jsonl`` holds the same policies on that split, its ``records.jsonl`` the report split.
Per λ:

* the learned candidates are the ``learned:DIR`` policies trained for that λ (``DIR/policy.json``'s
  ``lambda``); the best one is chosen by mean reward on the selection split, never on the report split;
* the comparison is by reward at λ (score − λ · tokens computed / 1000, ``adactx.rl.oracle.reward_of``) on
  the report split's examples that every label finished: the learned policy minus the val-chosen best fixed
  setting with its paired cluster-bootstrap 95% CI (documents resampled, ``adactx.rl.stats``);
* the oracle is the hindsight ceiling over the fixed settings, the adaptive baselines and the oracle's tree
  (learned policies excluded, so it is the same ceiling for every learned policy); the share of its gap
  closed is ``(learned − fixed) / (oracle − fixed)`` with its CI;
* the target is met when that CI excludes 0 upwards and the share is >= 0.30 (issue 9: at λ = 0.02).

Training throughput (decisions per hour, memo hit rate) comes from each training directory's
``throughput.json`` (``train features``), ``history.jsonl`` (``train ppo``) or the newest ``checkpoint-N``'s
``trainer_state.json`` (``train grpo``: its logged rollout metrics); ``read_curve`` reads its learning curve
(scripts/learning_curves.py): ``curve.jsonl``'s per-rollout mean return, or the PPO history's / GRPO
log's ``rollout/return`` per iteration / step, against the decisions trained on.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

import numpy as np
from adactx.rl.safe_io import read_json, read_run_config

from adactx.errors import AdactxError

LEARNED = "learned:"
TARGET_SHARE = 0.30
TARGET_LAMBDA = 0.02


def _records(path: Path) -> list[dict]:
    from adactx.rl.run_dir import read_records

    return read_records(path)


def policy_lambda(label: str) -> float | None:
    """The λ a ``learned:DIR`` policy was trained for (its policy.json): its price per 1k tokens computed.
    None when it does not say, or when it was trained on another reward (a FLOPs price, a hard budget:
    the reward ablations), which prices nothing in the targets' units."""
    from adactx.rl.policy_dir import read_policy_json

    meta = read_policy_json(label[len(LEARNED) :])
    reward = meta.get("reward") or {}
    if reward.get("variant", "linear") != "linear" or reward.get("cost", "tokens") != "tokens":
        return None
    if float(reward.get("cost_scale", 1000.0)) != 1000.0:
        return None
    lam = meta.get("lambda", meta.get("lam"))
    return None if lam is None else float(lam)


def rewards_of(table: dict, label: str, lam: float, budget: int) -> np.ndarray:
    """Per example (sorted ids) the reward of ``label`` at ``lam``."""
    from adactx.rl.oracle import reward_of
    from adactx.rl.rewards import RewardConfig

    rcfg = RewardConfig(lam=lam)
    return np.array([reward_of(table[e][label], rcfg, budget) for e in sorted(table)], dtype=float)


def oracle_rewards(table: dict, labels: list[str], lam: float, budget: int) -> np.ndarray:
    """Per example the hindsight best reward over ``labels`` (the ceiling: ``_ceiling_labels``, never a
    learned policy nor a reader-sensitivity condition such as ``gold``, which no policy can play)."""
    from adactx.rl.oracle import oracle_choice, reward_of
    from adactx.rl.rewards import RewardConfig

    rcfg = RewardConfig(lam=lam)
    out = []
    for e in sorted(table):
        cands = {k: table[e][k] for k in labels}
        out.append(reward_of(oracle_choice(cands, rcfg, budget)[1], rcfg, budget))
    return np.array(out, dtype=float)


def choose_learned(
    candidates: list[str], val_records: list[dict], lam: float, budget: int
) -> tuple[str, str]:
    """(label, how chosen): the candidate with the best mean reward on the selection split's examples
    that all candidates finished; a single candidate needs no choice."""
    from adactx.rl.eval_tables import complete_table

    if len(candidates) == 1:
        return candidates[0], "only one"
    table = complete_table(val_records, candidates)
    if not table:
        raise AdactxError(
            f"targets: no selection-split example has all of {', '.join(candidates)}; run them on val"
        )
    means = {c: float(rewards_of(table, c, lam, budget).mean()) for c in candidates}
    return max(candidates, key=lambda c: means[c]), f"best of {len(candidates)} on val (n = {len(table)})"


def _run_config(run: Path):
    from adactx.rl.eval_config import EvalConfig

    path = run / "config.json"
    if not path.is_file():
        raise AdactxError(f"{run}: no config.json (not an `adactx eval` run directory)")
    cfg = EvalConfig.from_dict(read_run_config(path))
    if not cfg.select_on:
        raise AdactxError(f"{path}: select_on is unset; the targets need a run made with --select-on val")
    return cfg


def _ceiling_labels(cfg) -> list[str]:
    from adactx.rl.oracle import tree_labels

    nodes = tree_labels(cfg.oracle_actions, cfg.oracle_depth) if "oracle" in cfg.policies else []
    return [p for p in cfg.baselines if not p.startswith(LEARNED)] + nodes


def lambda_target(cfg, val: list[dict], report: list[dict], lam: float, selection) -> dict:
    """The comparison at one λ (see the module docstring) from the selection split's records ``val`` and
    the report split's ``report``; ``{"lambda", "missing"}`` without candidates."""
    from adactx.rl.eval_tables import complete_table
    from adactx.rl.run_dir import record_document
    from adactx.rl.stats import gap_closed, paired_difference

    candidates = [p for p in cfg.policies if p.startswith(LEARNED) and policy_lambda(p) == lam]
    if not candidates:
        return {"lambda": lam, "missing": "no learned policy trained for this λ in the run"}
    learned, how = choose_learned(candidates, val, lam, cfg.budget)
    fixed = selection.best_fixed_at.get(f"{lam:g}", selection.best_fixed)
    ceiling = _ceiling_labels(cfg)
    table = complete_table(report, [*ceiling, learned])
    if not table:
        return {"lambda": lam, "missing": f"no report example has {learned} and every baseline yet"}
    ids = sorted(table)
    clusters = [record_document(table[e][fixed]) for e in ids]
    lr, fr = rewards_of(table, learned, lam, cfg.budget), rewards_of(table, fixed, lam, cfg.budget)
    orc = oracle_rewards(table, ceiling, lam, cfg.budget)
    boot = {"n_boot": cfg.n_boot, "seed": cfg.seed, "clusters": clusters}
    diff, share = paired_difference(lr, fr, **boot), gap_closed(lr, fr, orc, **boot)

    def mean(label, key):
        values = [
            table[e][label]["usage"]["tokens_computed"] if key == "tokens" else table[e][label][key]
            for e in ids
        ]
        return float(np.mean(values))

    return {
        "lambda": lam,
        "learned": learned,
        "chosen": how,
        "fixed": fixed,
        "chosen_on": selection.data,
        "n": len(ids),
        "n_documents": len(set(clusters)),
        "learned_reward": float(lr.mean()),
        "fixed_reward": float(fr.mean()),
        "oracle_reward": float(orc.mean()),
        "learned_score": mean(learned, "score"),
        "fixed_score": mean(fixed, "score"),
        "learned_tokens": mean(learned, "tokens"),
        "fixed_tokens": mean(fixed, "tokens"),
        "diff": list(diff),
        "gap_closed": list(share),
        "met": bool(diff[1] > 0 and np.isfinite(share[0]) and share[0] >= TARGET_SHARE),
    }


def read_throughput(train_dir: str | Path) -> dict:
    """A training directory's throughput.json (train features), last history.jsonl line (train ppo) or
    newest checkpoint's logged rollout metrics (train grpo): decisions, decisions per hour and memo hit
    rate; a clear error without any of them."""
    path = Path(train_dir) / "throughput.json"
    history = Path(train_dir) / "history.jsonl"
    if not path.is_file() and history.is_file():
        rows = _json_lines(history)
        last = rows[-1] if rows else {}
        return {
            "dir": str(train_dir),
            "decisions": sum(int(r.get("queries", 0)) for r in rows),
            "decisions_per_hour": last.get("throughput/decisions_per_hour", float("nan")),
            "memo_hit_rate": last.get("throughput/memo_hit_rate"),
        }
    steps = None if path.is_file() else _grpo_steps(Path(train_dir))
    if steps is not None:  # train grpo
        decisions, last = steps[-1] if steps else (0.0, {})
        return {
            "dir": str(train_dir),
            "decisions": round(decisions),
            "decisions_per_hour": last.get("throughput/decisions_per_hour", float("nan")),
            "memo_hit_rate": last.get("throughput/memo_hit_rate"),
        }
    curve = Path(train_dir) / "curve.jsonl"
    data = read_json(path) if path.is_file() else None
    if data is not None and curve.is_file() and not data.get("decisions"):
        last = _json_lines(curve)[-1]  # a run finalized after kill -9: its last rollout's rate
        return {
            "dir": str(train_dir),
            **{k: last.get(k) for k in ("decisions", "decisions_per_hour", "memo_hit_rate")},
        }
    if data is None:
        raise AdactxError(f"{path}: missing (written by `adactx train features|ppo|grpo` when it stops)")
    return {"dir": str(train_dir), **data}


PPO_KEY = "rollout/return"  # adactx.rl.ppo.rollout_metrics: mean return of the iteration's episodes


def _json_lines(path: Path) -> list[dict]:
    try:
        return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]
    except ValueError as exc:
        raise AdactxError(f"{path}: not JSON lines: {exc}") from None


def read_curve(run: Path) -> tuple[str, list[tuple[float, float]]]:
    """(label, [(decisions, mean return)]) of one training directory."""
    if (run / "curve.jsonl").is_file():
        by_step = {
            r["decisions"]: r["return"]
            for r in _json_lines(run / "curve.jsonl")
            if r.get("return") is not None
        }
        return f"features {run.name}", sorted(by_step.items())  # a resumed rollout keeps its last line
    if (run / "history.jsonl").is_file():
        points, decisions = [], 0
        for r in _json_lines(run / "history.jsonl"):
            decisions += int(r.get("queries", 0))  # the iteration's PPO samples (decisions)
            if PPO_KEY in r:
                points.append((float(decisions), float(r[PPO_KEY])))
        return f"LM {run.name}", points
    steps = _grpo_steps(run)
    if steps is not None:
        return f"LM {run.name}", [(decisions, float(r[PPO_KEY])) for decisions, r in steps if PPO_KEY in r]
    raise AdactxError(
        f"{run}: neither curve.jsonl (train features), history.jsonl (train ppo) nor checkpoint-N (train grpo)"
    )


def _grpo_steps(run: Path) -> list[tuple[float, dict]] | None:
    """A ``train grpo`` run's per-step rollout metrics, logged through the HF Trainer, as (decisions trained
    on so far, that step's log), from the newest ``checkpoint-N`` (it carries every earlier step's logs
    too); None when the directory holds no checkpoint."""
    from transformers.trainer_utils import get_last_checkpoint

    last = get_last_checkpoint(str(run)) if run.is_dir() else None
    if last is None or not (Path(last) / "trainer_state.json").is_file():
        return None
    state = read_json(Path(last) / "trainer_state.json")
    episodes = int(state.get("train_batch_size") or 0)  # episodes per GRPO step
    steps, decisions = [], 0.0
    for r in state.get("log_history", []):
        if "rollout/decisions_per_episode" in r:
            decisions += float(r["rollout/decisions_per_episode"]) * episodes
            steps.append((decisions, r))
    return steps


def policy_targets(
    run_dir: str | Path, train_dirs=(), fixed_among: tuple[str, ...] = (), against: str | None = None
) -> dict:
    """Every λ of the run's comparison, and the training throughput of ``train_dirs``. ``fixed_among``
    (name prefixes, e.g. ``("full", "first-", "topk-")``): the best fixed setting is chosen again on the
    selection split's records, per λ by mean reward, among the run's fixed settings with those prefixes
    only (a comparison against a narrower fixed family than the run chose from). ``against``: compare with
    this label of the report split instead (e.g. ``none``, reading nothing: a named setting, not a choice
    made on val; it must be one of the run's fixed settings or oracle-tree nodes)."""
    from adactx.rl.selection import load_selection

    run = Path(run_dir)
    cfg = _run_config(run)
    selection = load_selection(run)
    if selection is None:
        raise AdactxError(f"{run}: no selection.json; rerun the `adactx eval --select-on` command")
    val = _records(run / f"select-{cfg.select_on}" / "records.jsonl")
    report = _records(run / "records.jsonl")
    if fixed_among:
        selection = narrower_selection(cfg, val, selection, tuple(fixed_among))
    if against:
        if against not in _ceiling_labels(cfg):
            raise AdactxError(
                f"--against {against}: not one of the run's settings ({', '.join(_ceiling_labels(cfg))})"
            )
        selection = replace(
            selection, best_fixed=against, best_fixed_at={f"{lam:g}": against for lam in cfg.lambdas}
        )
    rows = [lambda_target(cfg, val, report, float(lam), selection) for lam in cfg.lambdas]
    return {
        "run": str(run),
        "data": cfg.data,
        "fixed_among": list(fixed_among),
        "against": against,
        "rows": rows,
        "throughput": [read_throughput(d) for d in train_dirs],
    }


def narrower_selection(cfg, val: list[dict], selection, prefixes: tuple[str, ...]):
    """``selection`` with its best fixed setting (overall and per λ) chosen again on the selection split's
    records ``val``, among the run's fixed settings that start with ``prefixes``."""
    from adactx.rl.eval_tables import complete_table
    from adactx.rl.selection import best_of, is_baseline_fixed

    family = [p for p in cfg.baselines if is_baseline_fixed(p) and p.startswith(prefixes)]
    if not family:
        raise AdactxError(f"--fixed-among {','.join(prefixes)}: none of the run's fixed settings starts so")
    table = complete_table(val, family)
    if not table:
        raise AdactxError(f"selection split: no example has all of {', '.join(family)}")

    def best(lam: float) -> str:
        return best_of({p: float(rewards_of(table, p, lam, cfg.budget).mean()) for p in family}, family)

    return replace(
        selection, best_fixed=best(0.0), best_fixed_at={f"{lam:g}": best(float(lam)) for lam in cfg.lambdas}
    )


def render_targets(result: dict) -> str:
    """The targets as markdown tables."""
    from adactx.rl.stats import fmt_ci, fmt_diff

    header = (
        "| λ | learned (chosen) | fixed (val) | n | learned reward | fixed reward | oracle reward "
        "| learned − fixed [95% CI] | oracle gap closed [95% CI] | learned / fixed tokens | target |"
    )
    among = f" among {', '.join(result['fixed_among'])}" if result.get("fixed_among") else ""
    versus = f"the best fixed setting{among} chosen on val"
    if result.get("against"):
        versus = (
            f"{result['against']} (named, not chosen on val: the gap share and target are not the issue's)"
        )
        header = header.replace("fixed (val)", "fixed (named)")
    lines = [
        f"{result['data']} ({result['run']}): learned vs {versus}, reward at λ",
        "",
        header,
        "|---|---|---|---|---|---|---|---|---|---|---|",
    ]
    for r in result["rows"]:
        if "missing" in r:
            lines.append(f"| {r['lambda']:g} | {r['missing']} | | | | | | | | | |")
            continue
        if result.get("against"):  # a named setting: the target is not what this compares
            target = "n/a"
        elif r["lambda"] == TARGET_LAMBDA:
            target = "met" if r["met"] else "missed"
        else:
            target = "(met)" if r["met"] else "-"
        lines.append(
            f"| {r['lambda']:g} | {r['learned']} ({r['chosen']}) | {r['fixed']} | {r['n']} | {r['learned_reward']:.3f} "
            f"| {r['fixed_reward']:.3f} | {r['oracle_reward']:.3f} | {fmt_diff(*r['diff'])} "
            f"| {fmt_ci(*r['gap_closed'], digits=2)} | {r['learned_tokens']:.0f} / {r['fixed_tokens']:.0f} | {target} |"
        )
    lines.append("")
    lines.append(
        f"target (issue 9): at λ = {TARGET_LAMBDA:g} the CI excludes 0 upwards and the share >= "
        f"{TARGET_SHARE:.0%}; training throughput >= 1,000 decisions/hour"
    )
    for t in result["throughput"]:
        rate = t.get("memo_hit_rate")
        lines.append(
            f"training {t['dir']}: {t.get('decisions_per_hour', float('nan')):,.0f} decisions/hour over "
            f"{t.get('decisions', 0)} decisions, memo hit rate "
            f"{'n/a' if rate is None else f'{rate:.0%}'}"
        )
    return "\n".join(lines)
