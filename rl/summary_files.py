"""A run directory's summary files: ``summary.md`` / ``summary.json`` (``summary-METRIC.*`` for another
metric) and the figures (``adactx.rl.plots``).

    write_summary("runs/qmsum-val", summary)     # summary from adactx.rl.eval_tables.aggregate_tables
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np


def write_summary(out: str | Path, summary: dict) -> None:
    out = Path(out)
    suffix = "" if summary.get("metric", "score") == "score" else f"-{summary['metric']}"
    (out / f"summary{suffix}.md").write_text(summary["table"] + "\n")
    (out / f"summary{suffix}.json").write_text(json.dumps(summary, indent=2, default=_jsonable))
    try:
        from adactx.rl.plots import draw_all

        summary["figures"] = draw_all(out, suffix)
    except (
        ImportError,
        OSError,
        ValueError,
        KeyError,
        RuntimeError,
    ) as exc:  # figures never cost the numbers
        summary["figures_error"] = repr(exc)


def _jsonable(x):
    if isinstance(x, (np.floating, np.integer)):
        return x.item()
    if isinstance(x, tuple):
        return list(x)
    return str(x)


__all__ = ["write_summary"]
