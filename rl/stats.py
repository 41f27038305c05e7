"""Cluster bootstrap confidence intervals: means, paired differences and the share of a gap closed.

QMSum and SQuALITY put several questions on one document, and questions on one document share their
difficulty, so the examples are not independent: a CI that resamples questions is too narrow. Every
CI here resamples *clusters* (documents) with replacement and recomputes the statistic over all the
questions of the drawn documents (the paired cluster bootstrap; percentile method, seeded), with
``scipy.stats.bootstrap`` doing the resampling over cluster indices. Without cluster ids each example
is its own cluster, which is the ordinary iid bootstrap.

    mean, lo, hi = mean_ci(scores, clusters=doc_ids)                 # mean over questions, CI over documents
    mean, lo, hi = paired_difference(a, b, clusters=doc_ids)         # mean of a - b on the same examples
    share, lo, hi = gap_closed(policy, fixed, oracle, clusters=doc_ids)  # (policy - fixed) / (oracle - fixed)
    note = small_sample_note(n=8, n_clusters=3)                      # a warning line, or "" when n is enough
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy import stats as scipy_stats

LEVEL = 0.95
FEW_CLUSTERS = 30  # fewer independent units than this: percentile bootstrap CIs run narrow, say so


def cluster_sums(
    values: Sequence[float] | np.ndarray, clusters: Sequence | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Per-cluster (sum of ``values``, count) in order of first appearance; no clusters = one per value."""
    x = np.asarray(values, dtype=float)
    if clusters is None:
        return x, np.ones_like(x)
    keys = list(clusters)
    if len(keys) != x.size:
        raise ValueError(f"clusters: {len(keys)} cluster ids for {x.size} values")
    index: dict = {}
    inverse = np.array([index.setdefault(k, len(index)) for k in keys], dtype=int)
    sums = np.bincount(inverse, weights=x, minlength=len(index)) if x.size else np.zeros(0)
    sizes = np.bincount(inverse, minlength=len(index)).astype(float) if x.size else np.zeros(0)
    return sums, sizes


def n_clusters(clusters: Sequence | None, n: int) -> int:
    return n if clusters is None else len(set(clusters))


def _ratio_of_sums(num, den, axis=-1):
    return np.sum(num, axis=axis) / np.sum(den, axis=axis)


def _bootstrap(data: tuple[np.ndarray, ...], statistic, n_boot: int, seed: int, level: float):
    """Percentile CI of ``statistic`` over cluster rows of ``data`` (resampled together, i.e. paired)."""
    res = scipy_stats.bootstrap(
        data,
        statistic,
        paired=True,
        vectorized=True,
        n_resamples=n_boot,
        confidence_level=level,
        method="percentile",
        rng=np.random.default_rng(seed),
    )
    return float(res.confidence_interval.low), float(res.confidence_interval.high)


def bootstrap_ci(
    values: Sequence[float],
    n_boot: int = 2000,
    seed: int = 0,
    level: float = LEVEL,
    clusters: Sequence | None = None,
) -> tuple[float, float]:
    """Cluster-bootstrap CI of the mean; (nan, nan) for no values, (m, m) for a single cluster."""
    sums, sizes = cluster_sums(values, clusters)
    if sums.size == 0:
        return float("nan"), float("nan")
    if sums.size == 1:
        m = float(sums[0] / sizes[0])
        return m, m
    return _bootstrap((sums, sizes), _ratio_of_sums, n_boot, seed, level)


def mean_ci(
    values: Sequence[float], n_boot: int = 2000, seed: int = 0, clusters: Sequence | None = None
) -> tuple[float, float, float]:
    """(mean over all values, CI low, CI high), the CI resampling ``clusters``."""
    x = np.asarray(values, dtype=float)
    lo, hi = bootstrap_ci(x, n_boot, seed, clusters=clusters)
    return (float(x.mean()) if x.size else float("nan")), lo, hi


def paired_difference(
    a: Sequence[float],
    b: Sequence[float],
    n_boot: int = 2000,
    seed: int = 0,
    clusters: Sequence | None = None,
) -> tuple[float, float, float]:
    """Mean of ``a - b`` (same examples, same order) with its cluster-bootstrap CI."""
    a, b = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    if a.shape != b.shape:
        raise ValueError(f"paired_difference: shapes differ {a.shape} vs {b.shape}")
    return mean_ci(a - b, n_boot, seed, clusters=clusters)


def gap_closed(
    policy: Sequence[float],
    fixed: Sequence[float],
    ceiling: Sequence[float],
    n_boot: int = 2000,
    seed: int = 0,
    clusters: Sequence | None = None,
) -> tuple[float, float, float]:
    """Share of the gap between a fixed setting and a ceiling (the oracle) that ``policy`` closes:
    ``mean(policy - fixed) / mean(ceiling - fixed)``, with its cluster-bootstrap CI; nan when the
    ceiling does not rise above the fixed setting."""
    p, f, c = (np.asarray(v, dtype=float) for v in (policy, fixed, ceiling))
    if not p.shape == f.shape == c.shape:
        raise ValueError(f"gap_closed: shapes differ {p.shape}, {f.shape}, {c.shape}")
    gained, _ = cluster_sums(p - f, clusters)
    headroom, _ = cluster_sums(c - f, clusters)
    if headroom.size == 0 or headroom.sum() <= 0:
        return float("nan"), float("nan"), float("nan")
    share = float(gained.sum() / headroom.sum())
    if headroom.size == 1:
        return share, share, share
    with np.errstate(divide="ignore", invalid="ignore"):
        lo, hi = _bootstrap((gained, headroom), _ratio_of_sums, n_boot, seed, LEVEL)
    return share, lo, hi


def small_sample_note(n: int, n_clusters: int, few: int = FEW_CLUSTERS) -> str:
    """A warning line when the CIs rest on few independent documents; "" otherwise."""
    if n_clusters >= few:
        return ""
    return (
        f"Warning: n = {n} examples on {n_clusters} documents (fewer than {few}): bootstrap CIs over so few "
        "documents run narrow and the best fixed setting / oracle are noisy; read the tables as a smoke test."
    )


def fmt_ci(mean: float, lo: float, hi: float, digits: int = 3) -> str:
    if not np.isfinite(mean):
        return "n/a"
    return f"{mean:.{digits}f} [{lo:.{digits}f}, {hi:.{digits}f}]"


def fmt_diff(mean: float, lo: float, hi: float, digits: int = 3, mark: bool = True) -> str:
    """``+m [lo, hi]`` with `` *`` when the CI excludes 0; ``mark=False`` for a bound (the oracle),
    where excluding 0 is true by construction and not evidence."""
    if not np.isfinite(mean):
        return "n/a"
    star = " *" if mark and (lo > 0 or hi < 0) else ""
    return f"{mean:+.{digits}f} [{lo:+.{digits}f}, {hi:+.{digits}f}]{star}"


__all__ = [
    "FEW_CLUSTERS",
    "bootstrap_ci",
    "cluster_sums",
    "fmt_ci",
    "fmt_diff",
    "gap_closed",
    "mean_ci",
    "n_clusters",
    "paired_difference",
    "small_sample_note",
]
