"""Print the targets of issue 9 from an `adactx eval --select-on val` run that includes learned policies.

    .venv/bin/python scripts/policy_targets.py runs/mixed1k-test --train runs/features1k-l0.02 [--json OUT]

Per λ: the learned policy trained for it (the best on val when several), against the best fixed setting
chosen on val, on the report split: rewards, the paired cluster-bootstrap 95% CI of the difference, the
share of the oracle's gap closed, and whether the target is met; then each training run's decisions per
hour and memo hit rate. The arithmetic is adactx.rl.targets (tested in tests/rl/test_rl_targets.py).
"""

from __future__ import annotations

import argparse
import json
import sys

from adactx.rl.targets import policy_targets, render_targets

from adactx.errors import AdactxError


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", help="an `adactx eval --select-on SPLIT` run directory")
    parser.add_argument("--train", nargs="*", default=[], help="training directories (their throughput.json)")
    parser.add_argument(
        "--fixed-among",
        help="comma-separated name prefixes (e.g. full,first-,topk-): choose the best fixed setting on val "
        "again, among these families only",
    )
    parser.add_argument(
        "--against",
        help="compare with this setting of the report split instead (e.g. none: reading nothing); a named "
        "setting, not one chosen on val",
    )
    parser.add_argument("--json", help="also write the numbers to this JSON file")
    args = parser.parse_args(argv)
    try:
        among = tuple(p.strip() for p in (args.fixed_among or "").split(",") if p.strip())
        result = policy_targets(args.run, train_dirs=args.train, fixed_among=among, against=args.against)
    except AdactxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(render_targets(result))
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    return 0


if __name__ == "__main__":
    sys.exit(main())
