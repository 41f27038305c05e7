"""Learning curves of `adactx train` runs: mean episode return per rollout / iteration against decisions.

    .venv/bin/python scripts/learning_curves.py runs/features1k16-l0.02 runs/ppo1k-l0.02 --out FIG.png

A feature-policy run (`adactx train features`) writes OUTPUT_DIR/curve.jsonl, one line per rollout with the
mean return of the episodes that finished in it; a PPO run (`adactx train ppo`) writes history.jsonl, one line
per iteration (the mean return of its rollout's episodes). Prints the numbers as a table, draws the figure.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from adactx.rl.plots import learning_curves
from adactx.rl.targets import read_curve

from adactx.errors import AdactxError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="training output directories")
    parser.add_argument("--out", default="runs/learning_curves.png", help="figure path")
    args = parser.parse_args(argv)
    try:
        curves = dict(read_curve(Path(r)) for r in args.runs)
    except AdactxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    for label, points in curves.items():
        print(f"{label}: " + "  ".join(f"{d:.0f}:{v:+.3f}" for d, v in points))
    print(learning_curves(curves, Path(args.out), "mean episode return (score − λ·tokens/1000)"))
    return 0


if __name__ == "__main__":
    sys.exit(main())
