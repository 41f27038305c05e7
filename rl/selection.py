"""The protocol: choose the best fixed setting (and each knob) on one split, report on another.

Picking the best of a dozen fixed settings on the examples it is then compared on biases every "*"
against it in its favour. ``adactx eval --data qmsum:test --select-on val`` first runs the asked
baselines on the selection split (a resumable run directory ``OUT/select-val``), chooses there

* the best fixed setting: the asked fixed baselines only (``full``, ``first-L``, ``topk-K``, and
  ``refine-K`` — a fixed number of refines, the pattern the first learned policies turned out to be),
  never a node of the oracle's tree, by mean score, and per λ by mean reward;
* each knob: for a family asked at several values (``threshold-1,threshold-0.5``, ``rag-full-k2,...``)
  the member with the best mean score,

writes the choice to ``OUT/selection.json``, and the report split's tables compare against it.

    sel = selection_from_summary(summary, baselines=cfg.baselines, split="val")
    sel.best_fixed, sel.best_fixed_at["0.05"], sel.knobs.get("threshold")
    save_selection(run_dir, sel); load_selection(run_dir)   # None when the run chose in-sample
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from pathlib import Path

from adactx.errors import AdactxError

FIXED_PREFIXES = ("full", "first-", "topk-", "refine-")
KNOB_FAMILIES = {r"threshold(-\d*\.?\d+)?": "threshold", r"rag-full(-k\d+)?": "rag-full"}
SELECTION_FILE = "selection.json"


def is_baseline_fixed(policy: str) -> bool:
    """An asked fixed-length or fixed-top-k baseline (not an oracle-tree node, not adaptive)."""
    return policy.startswith(FIXED_PREFIXES)


def knob_family(policy: str) -> str | None:
    """The family a knobbed policy belongs to (``threshold-0.5`` -> ``threshold``); None otherwise."""
    for pattern, family in KNOB_FAMILIES.items():
        if re.fullmatch(pattern, policy):
            return family
    return None


def fixed_candidates(baselines: list[str]) -> list[str]:
    """The settings the best fixed one is chosen from: the asked fixed baselines, else every baseline."""
    return [p for p in baselines if is_baseline_fixed(p)] or list(baselines)


def best_of(means: dict[str, float], candidates: list[str]) -> str:
    """The candidate with the highest mean (the first asked wins a tie)."""
    missing = [c for c in candidates if c not in means]
    if missing:
        raise AdactxError(f"selection: no scores for {', '.join(missing)}")
    return max(candidates, key=lambda c: means[c])


def knob_choices(means: dict[str, float], baselines: list[str]) -> dict[str, str]:
    """Per family asked at two or more values, the member with the best mean."""
    families: dict[str, list[str]] = {}
    for p in baselines:
        family = knob_family(p)
        if family:
            families.setdefault(family, []).append(p)
    return {f: best_of(means, members) for f, members in families.items() if len(members) > 1}


@dataclass
class Selection:
    """What the selection split chose (recorded as ``selection.json`` in the report run directory)."""

    data: str  # the selection split's spec, e.g. "qmsum:val"
    n: int
    n_documents: int
    best_fixed: str
    best_fixed_at: dict[str, str] = field(default_factory=dict)  # f"{λ:g}" -> setting by mean reward
    knobs: dict[str, str] = field(default_factory=dict)  # family -> chosen member
    scores: dict[str, float] = field(default_factory=dict)  # policy -> mean score on the selection split

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict) -> Selection:
        try:
            return cls(**data)
        except TypeError as exc:
            raise AdactxError(f"{SELECTION_FILE}: not a selection record ({exc})") from exc

    def header(self) -> str:
        knobs = "".join(f", {f}: {c}" for f, c in self.knobs.items())
        return (
            f"settings chosen on {self.data} (n = {self.n}, {self.n_documents} documents): "
            f"best fixed {self.best_fixed}{knobs}"
        )


def selection_from_summary(summary: dict, baselines: list[str]) -> Selection:
    """The choices a selection split's summary (``adactx.rl.eval_tables.aggregate_tables``) supports."""
    if not summary.get("n"):
        raise AdactxError(f"selection: {summary.get('data')} has no finished example to choose on")
    means = {r["policy"]: float(r["score"]) for r in summary["rows"] if r["policy"] in baselines}
    return Selection(
        data=summary["data"],
        n=int(summary["n"]),
        n_documents=int(summary.get("n_documents", summary["n"])),
        best_fixed=best_of(means, fixed_candidates(baselines)),
        best_fixed_at={f"{e['lambda']:g}": e["best_fixed"] for e in summary.get("reward_rows", [])},
        knobs=knob_choices(means, baselines),
        scores=means,
    )


def save_selection(run_dir: str | Path, selection: Selection) -> Path:
    path = Path(run_dir) / SELECTION_FILE
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(selection.to_dict(), indent=2))
    tmp.replace(path)
    return path


def load_selection(run_dir: str | Path) -> Selection | None:
    path = Path(run_dir) / SELECTION_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise AdactxError(f"{path}: not valid JSON ({exc}); delete it and rerun to choose again") from exc
    if not isinstance(data, dict):
        raise AdactxError(f"{path}: expected a JSON object")
    return Selection.from_dict(data)


def selection_spec(data: str, select_on: str) -> str:
    """``qmsum:test`` + ``val`` -> ``qmsum:val``; the two splits must differ and both exist."""
    from adactx.data.registry import parse_spec

    dataset, split = parse_spec(data)
    if select_on == split:
        raise AdactxError(f"--select-on: {select_on!r} is the split reported on; choose settings on another")
    try:
        parse_spec(f"{dataset.name}:{select_on}")
    except AdactxError as exc:
        raise AdactxError(f"--select-on: {exc}") from exc
    return f"{dataset.name}:{select_on}"


__all__ = [
    "Selection",
    "best_of",
    "fixed_candidates",
    "is_baseline_fixed",
    "knob_choices",
    "knob_family",
    "load_selection",
    "save_selection",
    "selection_from_summary",
    "selection_spec",
]
