"""The markdown of an evaluation's tables (``summary.md``): scores, rewards per λ, groups, sensitivity.

    text = render(summary, cfg)        # summary: what adactx.rl.eval_tables computes
"""

from __future__ import annotations

import math

from adactx.rl.eval_config import EvalConfig


def render(summary: dict, cfg: EvalConfig) -> str:
    lines = [*_score_lines(summary, cfg), *_reward_lines(summary), *_gap_lines(summary)]
    lines += _group_lines(summary)
    lines += _sensitivity_lines(summary)
    lines += ["", *summary.get("verdict_lines", verdict_lines(summary))]
    return "\n".join(lines)


def _score_lines(summary: dict, cfg: EvalConfig) -> list[str]:
    from adactx.rl.stats import fmt_ci, fmt_diff

    lines = [
        (
            f"### {cfg.data}: {cfg.metric}, n = {summary['n']} examples on {summary['n_documents']} documents, "
            f"budget {cfg.budget} tokens (best fixed setting: {summary['best_fixed']}, {_chosen(summary)})"
        ),
        "",
        *protocol_lines(summary, cfg),
        "",
        (
            "| policy | score [95% CI] | Δ vs best fixed [95% CI] | tokens computed | context tokens | TFLOPs "
            "| wall s | evidence recall |"
        ),
        "|---|---|---|---|---|---|---|---|",
    ]
    knobs = set((summary.get("selection") or {}).get("knobs", {}).values())
    for r in summary["rows"]:
        is_ref = r["policy"] == summary["best_fixed"]
        diff = "—" if is_ref else fmt_diff(*_diff(r), mark=r["kind"] != "oracle")
        name = f"{r['policy']} (chosen on {summary['chosen_on']})" if r["policy"] in knobs else r["policy"]
        lines.append(
            f"| {name} | {fmt_ci(r['score'], *r['ci'])} | {diff} | {r['tokens']:.0f} | "
            f"{_num(r['context_tokens'], 0)} | {_num(r['tflops'], 3)} | {_num(r['wall_s'], 1)} | "
            f"{_num(r['evidence_recall'], 2)} |"
        )
    return lines


def _chosen(summary: dict) -> str:
    if summary["chosen_on"] == "in-sample":
        return "chosen in-sample"
    return f"chosen on {summary['chosen_on']}"


def _diff(row: dict) -> tuple[float, float, float]:
    return row["diff"], *row["diff_ci"]


def protocol_lines(summary: dict, cfg: EvalConfig) -> list[str]:
    """How to read the table: where the reference was chosen, what the CIs resample, the oracle's role."""
    from adactx.rl.stats import small_sample_note

    sel = summary.get("selection")
    if sel:
        knobs = "".join(f"; {f}: {c}" for f, c in sel["knobs"].items())
        where = (
            f"Settings chosen on {sel['data']} (n = {sel['n']}, {sel['n_documents']} documents) among the asked "
            f"fixed baselines: {sel['best_fixed']}{knobs}; reported here on {cfg.data}."
        )
    else:
        where = (
            "Best fixed setting chosen in-sample among the asked fixed baselines, on these same examples: "
            "every Δ against it is biased in its favour (`--select-on SPLIT` chooses it on another split)."
        )
    unit = "documents" if summary.get("clustered") else "examples (the records name no documents)"
    lines = [
        where,
        (
            f"95% CIs: percentile bootstrap resampling {unit} ({summary['n_documents']} clusters); "
            "* = paired CI excludes 0. Oracle rows are a ceiling (the per-example best in hindsight over every "
            "candidate, the best fixed setting included), so their Δ is headroom and carries no *."
        ),
    ]
    if cfg.summary_tokens_from:
        lines.append(f"Query-focused summaries: at most {cfg.summary_tokens_from}.")
    note = small_sample_note(summary["n"], summary["n_documents"])
    return lines + ([note] if note else [])


def _reward_lines(summary: dict) -> list[str]:
    from adactx.rl.stats import fmt_ci, fmt_diff

    lines = [
        "",
        (
            "Reward = score − λ·(tokens computed / 1000). Oracle: per-example best in hindsight; "
            "cross-fit: best fixed setting per bucket (task × length × margin) chosen on one half, "
            "scored on the other, vs the single best fixed setting chosen the same way."
        ),
        "",
        (
            f"| λ | best fixed ({_chosen(summary)}) | its reward | oracle reward (ceiling) | "
            "headroom: oracle − best fixed | cross-fit rule "
            "| cross-fit best fixed | rule − fixed | rule's top choices |"
        ),
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for e in summary["reward_rows"]:
        orc = fmt_ci(*e["oracle_reward"]) if "oracle_reward" in e else "—"
        od = fmt_diff(*e["oracle_diff"], mark=False) if "oracle_diff" in e else "—"
        choices = ", ".join(f"{k} ({v})" for k, v in e["crossfit_choices"].items())
        lines.append(
            f"| {e['lambda']:g} | {e['best_fixed']} | {fmt_ci(*e['best_fixed_reward'])} | {orc} | {od} | "
            f"{fmt_ci(*e['crossfit_reward'])} | {fmt_ci(*e['crossfit_fixed_reward'])} | "
            f"{fmt_diff(*e['crossfit_diff'])} | {choices} |"
        )
    return lines


def _gap_lines(summary: dict) -> list[str]:
    """Share of the oracle's headroom each adaptive policy closes, per λ (1 = the ceiling)."""
    from adactx.rl.stats import fmt_ci

    entries = [e for e in summary["reward_rows"] if e.get("gap_closed")]
    if not entries:
        return []
    lams = " | ".join(f"λ = {e['lambda']:g}" for e in entries)
    lines = [
        "",
        (
            "Share of the oracle's reward headroom closed: (policy − best fixed) / (oracle − best fixed), "
            "1 = the ceiling, 0 = the best fixed setting, < 0 = below it:"
        ),
        "",
        f"| policy | {lams} |",
        "|---|" + "---|" * len(entries),
    ]
    for p in entries[0]["gap_closed"]:
        cells = " | ".join(fmt_ci(*e["gap_closed"][p]) for e in entries)
        lines.append(f"| {p} | {cells} |")
    return lines


def _group_lines(summary: dict) -> list[str]:
    if not (summary.get("groups") and len(summary["groups"]) > 1):
        return []
    pols = list(next(iter(summary["groups"].values())))
    lines = [
        "",
        "Mean score per group:",
        "",
        "| group (n) | " + " | ".join(pols) + " |",
        "|---|" + "---|" * len(pols),
    ]
    for g, by_p in summary["groups"].items():
        n_g = next(iter(by_p.values()))[1]
        lines.append(f"| {g} ({n_g}) | " + " | ".join(f"{by_p[p][0]:.3f}" for p in pols) + " |")
    return lines


def _sensitivity_lines(summary: dict) -> list[str]:
    from adactx.rl.stats import fmt_ci, fmt_diff

    if not summary.get("sensitivity"):
        return []
    lines = [
        "",
        "Reader sensitivity (same examples per row's n):",
        "",
        "| condition | n | score [95% CI] | Δ vs none (paired) [95% CI] | context tokens |",
        "|---|---|---|---|---|",
    ]
    for s in summary["sensitivity"]:
        d = fmt_diff(*s["diff_vs_none"]) if s.get("diff_vs_none") else "—"
        lines.append(
            f"| {s['condition']} | {s['n']} | {fmt_ci(s['score'], *s['ci'])} | {d} | "
            f"{s['context_tokens']:.0f} |"
        )
    return lines


def verdict_lines(summary: dict) -> list[str]:
    out = []
    for e in summary["reward_rows"]:
        lam = e["lambda"]
        if "oracle_diff" in e:
            m, lo, hi = e["oracle_diff"]
            out.append(
                f"- λ={lam:g}: ceiling — the oracle's reward is {m:+.3f} [{lo:+.3f}, {hi:+.3f}] above the best "
                f"fixed setting ({e['best_fixed']}). An upper bound, not a verdict: a per-example maximum "
                "beats every candidate by construction, even among policies with identical scores."
            )
        m, lo, hi = e["crossfit_diff"]
        beats = "beats" if lo > 0 else "does NOT beat"
        out.append(
            f"- λ={lam:g}: the cross-fitted bucket rule {beats} the cross-fitted best fixed setting beyond the "
            f"CI (Δ reward {m:+.3f} [{lo:+.3f}, {hi:+.3f}])."
        )
    return out


def _num(x, digits):
    if x is None or (isinstance(x, float) and not math.isfinite(x)):
        return "—"
    return f"{x:.{digits}f}"


__all__ = ["render", "verdict_lines"]
