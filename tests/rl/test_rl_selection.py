"""The protocol: settings are chosen on one split among the asked baselines, and reported on another."""

import pytest
from adactx.rl.selection import (
    Selection,
    fixed_candidates,
    knob_choices,
    knob_family,
    load_selection,
    save_selection,
    selection_from_summary,
    selection_spec,
)

from adactx.errors import AdactxError


def _summary(scores: dict[str, float], best_at: dict[float, str]) -> dict:
    return {
        "data": "qmsum:val",
        "n": 8,
        "n_documents": 3,
        "rows": [{"policy": p, "score": s} for p, s in scores.items()]
        + [{"policy": "oracle λ=0", "score": 0.9}],
        "reward_rows": [{"lambda": lam, "best_fixed": s} for lam, s in best_at.items()],
    }


def test_best_fixed_is_chosen_among_the_asked_fixed_baselines_only():
    baselines = ["full", "first-1024", "topk-4", "threshold-1", "threshold-0.5"]
    scores = {"full": 0.20, "first-1024": 0.25, "topk-4": 0.22, "threshold-1": 0.30, "threshold-0.5": 0.28}
    sel = selection_from_summary(_summary(scores, {0.0: "first-1024", 0.05: "topk-4"}), baselines)
    assert sel.best_fixed == "first-1024"  # the adaptive thresholds and the oracle row never count
    assert sel.best_fixed_at == {"0": "first-1024", "0.05": "topk-4"}
    assert sel.knobs == {"threshold": "threshold-1"}  # the knob τ chosen on this split
    assert (
        "chosen on qmsum:val (n = 8, 3 documents)" in sel.header()
        and "threshold: threshold-1" in sel.header()
    )
    assert fixed_candidates(["threshold", "rag-full"]) == ["threshold", "rag-full"]  # no fixed asked
    assert "seq:extend-1024" not in fixed_candidates(["full", "seq:extend-1024"])
    assert fixed_candidates(["topk-2", "refine-3", "learned:x"]) == ["topk-2", "refine-3"]  # a fixed pattern


def test_knob_families_need_two_members():
    assert knob_family("threshold") == knob_family("threshold-0.25") == "threshold"
    assert knob_family("rag-full-k2") == "rag-full" and knob_family("topk-4") is None
    assert knob_choices({"threshold": 0.1, "topk-4": 0.3}, ["threshold", "topk-4"]) == {}


def test_selection_round_trips_through_the_run_directory(tmp_path):
    assert load_selection(tmp_path) is None
    sel = Selection("qmsum:val", 8, 3, "topk-4", {"0": "topk-4"}, {}, {"topk-4": 0.2})
    save_selection(tmp_path, sel)
    assert load_selection(tmp_path) == sel
    (tmp_path / "selection.json").write_text("{torn")
    with pytest.raises(AdactxError, match="selection.json: not valid JSON"):
        load_selection(tmp_path)


def test_selection_split_must_exist_and_differ_from_the_reported_one():
    assert selection_spec("qmsum:test", "val") == "qmsum:val"
    assert selection_spec("squality:test", "dev") == "squality:dev"
    with pytest.raises(AdactxError, match="is the split reported on"):
        selection_spec("qmsum:val", "val")
    with pytest.raises(AdactxError, match="unknown split"):
        selection_spec("qmsum:test", "nosuch")
