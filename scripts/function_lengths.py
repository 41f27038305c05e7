"""Function lengths of the package (an ``ast`` scan): how many are over 50 and 60 lines, the median.

    python scripts/function_lengths.py [ROOT]        # ROOT: a checkout (default: this one)

Counts every ``def`` (functions, methods, nested functions) in adactx/, graphs/, retrieval/, rl/ and
kernels/ by its line span (decorators excluded), and lists the ones over 60 lines.
"""

from __future__ import annotations

import ast
import statistics
import sys
from pathlib import Path

FOLDERS = ("adactx", "graphs", "retrieval", "rl", "kernels")


def function_lengths(root: Path) -> list[tuple[int, str]]:
    out = []
    for folder in FOLDERS:
        for path in sorted((root / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                    span = node.end_lineno - node.lineno + 1
                    out.append((span, f"{path.relative_to(root)}:{node.lineno} {node.name}"))
    return out


def main(argv: list[str]) -> int:
    root = Path(argv[0]) if argv else Path(__file__).resolve().parents[1]
    lengths = function_lengths(root)
    spans = [n for n, _ in lengths]
    print(f"{root}: {len(spans)} functions, median {statistics.median(spans):g} lines, "
          f"over 50: {sum(n > 50 for n in spans)}, over 60: {sum(n > 60 for n in spans)}, longest {max(spans)}")
    for n, name in sorted(lengths, reverse=True):
        if n > 50:
            print(f"  {n:>4}  {name}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
