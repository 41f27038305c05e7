"""Bootstrap confidence intervals for means and paired differences (seeded, percentile method).

lo, hi = bootstrap_ci([0.1, 0.4, 0.3], n_boot=2000, seed=0)
mean, lo, hi = paired_difference(a, b)          # mean of a - b over the same examples, with its CI
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np


def bootstrap_ci(values: Sequence[float], n_boot: int = 2000, seed: int = 0, level: float = 0.95):
    """Percentile bootstrap CI of the mean; (nan, nan) for no values, (v, v) for one."""
    x = np.asarray(values, dtype=float)
    if x.size == 0:
        return float("nan"), float("nan")
    if x.size == 1:
        return float(x[0]), float(x[0])
    rng = np.random.default_rng(seed)
    means = x[rng.integers(0, x.size, size=(n_boot, x.size))].mean(axis=1)
    alpha = (1.0 - level) / 2.0
    return float(np.quantile(means, alpha)), float(np.quantile(means, 1.0 - alpha))


def mean_ci(values: Sequence[float], n_boot: int = 2000, seed: int = 0) -> tuple[float, float, float]:
    x = np.asarray(values, dtype=float)
    lo, hi = bootstrap_ci(x, n_boot, seed)
    return (float(x.mean()) if x.size else float("nan")), lo, hi


def paired_difference(a: Sequence[float], b: Sequence[float], n_boot: int = 2000, seed: int = 0):
    """Mean of ``a - b`` (same examples, same order) with its bootstrap CI."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired_difference: shapes differ {a.shape} vs {b.shape}")
    return mean_ci(a - b, n_boot, seed)


def fmt_ci(mean: float, lo: float, hi: float, digits: int = 3) -> str:
    if not np.isfinite(mean):
        return "n/a"
    return f"{mean:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def fmt_diff(mean: float, lo: float, hi: float, digits: int = 3) -> str:
    if not np.isfinite(mean):
        return "n/a"
    mark = " *" if lo > 0 or hi < 0 else ""
    return f"{mean:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]{mark}"


__all__ = ["bootstrap_ci", "fmt_ci", "fmt_diff", "mean_ci", "paired_difference"]
