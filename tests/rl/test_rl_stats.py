"""Cluster bootstrap: documents, not questions, are resampled; the oracle's gap is large by construction."""

import numpy as np
import pytest
from adactx.rl.oracle import oracle_choice
from adactx.rl.rewards import RewardConfig
from adactx.rl.stats import (
    bootstrap_ci,
    cluster_sums,
    fmt_diff,
    gap_closed,
    mean_ci,
    paired_difference,
    small_sample_note,
)


def _correlated(n_docs: int, per_doc: int, seed: int = 0):
    """Scores that share a strong per-document effect (questions on one document move together)."""
    rng = np.random.default_rng(seed)
    doc_effect = rng.normal(0.5, 0.2, n_docs)
    scores = np.repeat(doc_effect, per_doc) + rng.normal(0, 0.02, n_docs * per_doc)
    clusters = np.repeat([f"doc{i}" for i in range(n_docs)], per_doc)
    return scores, list(clusters)


def test_cluster_ci_is_wider_than_iid_when_scores_correlate_within_documents():
    scores, clusters = _correlated(n_docs=20, per_doc=5)
    m_iid, lo_iid, hi_iid = mean_ci(scores, n_boot=2000)
    m_cl, lo_cl, hi_cl = mean_ci(scores, n_boot=2000, clusters=clusters)
    assert m_iid == pytest.approx(m_cl)  # the point estimate is the mean over questions either way
    assert lo_cl <= m_cl <= hi_cl
    # 5 near-copies per document: the effective n is ~20, not 100, so the CI is ~sqrt(5) wider
    assert (hi_cl - lo_cl) > 1.7 * (hi_iid - lo_iid)


def test_cluster_ci_matches_iid_when_each_example_is_its_own_document():
    rng = np.random.default_rng(1)
    scores = rng.random(60)
    iid = mean_ci(scores, n_boot=1000, seed=3)
    singletons = mean_ci(scores, n_boot=1000, seed=3, clusters=[f"d{i}" for i in range(60)])
    assert iid == pytest.approx(singletons)


def test_paired_difference_resamples_documents_and_keeps_the_pairs():
    a, clusters = _correlated(n_docs=12, per_doc=4, seed=2)
    b = a - 0.1  # a constant improvement: every resample sees exactly +0.1
    assert paired_difference(a, b, n_boot=500, clusters=clusters) == pytest.approx((0.1, 0.1, 0.1))
    # a difference that varies by document: the cluster CI is wider than the iid one
    rng = np.random.default_rng(4)
    shift = np.repeat(rng.normal(0.05, 0.1, 12), 4)
    c = a + shift
    _, lo_iid, hi_iid = paired_difference(c, a, n_boot=2000)
    _, lo_cl, hi_cl = paired_difference(c, a, n_boot=2000, clusters=clusters)
    assert (hi_cl - lo_cl) > 1.5 * (hi_iid - lo_iid)


def test_unequal_cluster_sizes_weight_questions_not_documents():
    values = [1.0, 1.0, 1.0, 0.0]
    clusters = ["big", "big", "big", "small"]
    sums, sizes = cluster_sums(values, clusters)
    assert sums.tolist() == [3.0, 0.0] and sizes.tolist() == [3.0, 1.0]
    assert mean_ci(values, n_boot=200, clusters=clusters)[0] == pytest.approx(0.75)


def test_degenerate_inputs():
    assert all(np.isnan(bootstrap_ci([])))
    assert bootstrap_ci([0.4, 0.6], clusters=["a", "a"]) == pytest.approx((0.5, 0.5))
    with pytest.raises(ValueError, match="clusters"):
        mean_ci([1.0, 2.0], clusters=["a"])
    with pytest.raises(ValueError, match="shapes differ"):
        paired_difference([1.0], [1.0, 2.0])


def test_gap_closed_is_the_share_of_the_headroom_a_policy_recovers():
    rng = np.random.default_rng(5)
    fixed = rng.random(40)
    oracle = fixed + 0.2
    half = fixed + 0.1 + rng.normal(0, 0.01, 40)
    share, lo, hi = gap_closed(half, fixed, oracle, n_boot=500, clusters=[f"d{i // 4}" for i in range(40)])
    assert share == pytest.approx(0.5, abs=0.02) and lo < share < hi
    assert all(np.isnan(gap_closed(fixed, fixed, fixed)))  # no headroom: no share


def test_oracle_beats_identical_policies_by_construction_which_is_why_it_is_not_a_verdict():
    """13 policies with the same score distribution, n = 100: none is better than another, yet the
    per-example maximum ("oracle") beats the best of them by a wide, 'significant' margin. So the oracle
    is reported as a ceiling and never carries a significance mark."""
    rng = np.random.default_rng(0)
    n, k = 100, 13
    scores = rng.random((n, k))  # every policy: uniform(0, 1) scores, independent draws
    rcfg = RewardConfig(lam=0.0)

    def outcome(score):
        return {"score": float(score), "usage": {"tokens_computed": 100}, "context_tokens": 100}

    table = [{f"p{j}": outcome(scores[i, j]) for j in range(k)} for i in range(n)]
    best = int(np.argmax(scores.mean(axis=0)))
    oracle = [oracle_choice(row, rcfg, budget=4096)[1]["score"] for row in table]
    gap, lo, hi = paired_difference(oracle, scores[:, best], n_boot=2000)
    # the "gap" is about E[max of 13] - E[one] = 13/14 - 1/2 for uniforms, and its CI is far from 0
    assert gap > 0.3 and lo > 0.25
    # while two fixed policies drawn from the same distribution do not differ beyond their CI
    _, lo2, hi2 = paired_difference(scores[:, 0], scores[:, 1], n_boot=2000)
    assert lo2 < 0 < hi2
    # the table prints the oracle's gap as a bound (no star), a comparison between policies with one
    assert "*" not in fmt_diff(gap, lo, hi, mark=False) and fmt_diff(gap, lo, hi).endswith("*")


def test_small_sample_note_warns_on_few_documents():
    assert "8 examples on 3 documents" in small_sample_note(8, 3)
    assert small_sample_note(100, 35) == ""
