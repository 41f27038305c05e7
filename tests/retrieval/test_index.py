"""ChunkIndex: dense / BM25 / hybrid scoring, ANN options, pickle-free save/load, corruption, caching."""

from __future__ import annotations

import json
import logging

import numpy as np
import pytest
from adactx.retrieval.chunking import build_chunk_tree
from adactx.retrieval.documents import document_from_text
from adactx.retrieval.encoders import Encoder, HashingEncoder, load_encoder
from adactx.retrieval.index import ChunkIndex, IndexConfig, cached_index
from helpers import tiny_tokenizer

from adactx.errors import AdactxError

TEXTS = [
    "The project manager opened the meeting and read the agenda.",
    "Marketing reported that users find remote controls ugly and hard to use.",
    "The industrial designer proposed a rubber case and a kinetic battery.",
    "The budget allows twelve euros and fifty cents per remote control.",
    "They agreed to meet again after lunch to decide on the colours.",
    "Speech recognition was judged too expensive for the target price.",
]
KINDS = ["dense", "bm25", "hybrid"]


class CountingEncoder:
    """Wraps an encoder and counts how many texts it embedded."""

    def __init__(self, inner: Encoder):
        self.inner, self.name, self.dim, self.texts_encoded = inner, inner.name, inner.dim, 0

    def encode(self, texts):
        self.texts_encoded += len(texts)
        return self.inner.encode(texts)


@pytest.fixture()
def encoder():
    return HashingEncoder(dim=128)


# --- encoders ------------------------------------------------------------------------------------------


def test_hashing_encoder_is_deterministic_and_normalized(encoder):
    vectors = encoder.encode(TEXTS)
    assert vectors.shape == (len(TEXTS), 128) and vectors.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(vectors, axis=1), 1.0, rtol=1e-5)
    np.testing.assert_array_equal(vectors, HashingEncoder(dim=128).encode(TEXTS))
    assert isinstance(encoder, Encoder)


def test_load_encoder_names():
    assert load_encoder("hashing").name == "hashing-256"
    assert load_encoder("hashing-64").dim == 64
    assert load_encoder("minilm").dim == 384  # lazy: nothing is loaded yet
    with pytest.raises(AdactxError, match="unknown encoder 'bert-huge'"):
        load_encoder("bert-huge")


# --- scoring --------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_search_finds_the_matching_chunk(kind, encoder):
    index = ChunkIndex.build(TEXTS, kind=kind, encoder=encoder)
    scores = index.scores("budget per remote control in euros")
    assert scores.shape == (len(TEXTS),) and scores.dtype == np.float32
    assert int(np.argmax(scores)) == 3
    hits = index.search("budget per remote control in euros", k=3)
    assert hits[0][0] == 3 and [s for _, s in hits] == sorted((s for _, s in hits), reverse=True)
    assert 3 not in [i for i, _ in index.search("budget per remote control in euros", k=3, exclude={3})]
    assert len(index.search("budget", k=100)) == len(TEXTS)
    assert index.search("budget", k=0) == []


@pytest.mark.parametrize("kind", KINDS)
def test_rank_sentences(kind, encoder):
    index = ChunkIndex.build(TEXTS, kind=kind, encoder=encoder)
    sentences = ["They ate lunch.", "The kinetic battery was proposed by the designer.", "Nothing else."]
    scores = index.rank_sentences("kinetic battery designer", sentences)
    assert scores.shape == (3,) and int(np.argmax(scores)) == 1
    assert index.rank_sentences("anything", []).shape == (0,)


def test_query_without_known_words_scores_zero():
    index = ChunkIndex.build(TEXTS, kind="bm25")
    assert not index.scores("zzzz qqqq").any()
    assert len(index.search("zzzz", k=2)) == 2


def test_bm25_does_not_log_debug_lines(caplog):
    # bm25s sets its own logger to DEBUG; under any root handler that printed a line per index build
    with caplog.at_level(logging.DEBUG):
        ChunkIndex.build(TEXTS, kind="bm25").scores("budget")
    assert not [r for r in caplog.records if r.name.startswith("bm25s")]


def test_hybrid_fusions_differ_but_agree_on_the_best(encoder):
    minmax = ChunkIndex.build(TEXTS, kind="hybrid", encoder=encoder)
    rrf = ChunkIndex.build(TEXTS, kind="hybrid", encoder=encoder, fusion="rrf")
    query = "rubber case kinetic battery"
    assert np.argmax(minmax.scores(query)) == np.argmax(rrf.scores(query)) == 2
    assert minmax.scores(query).max() == pytest.approx(1.0)
    assert rrf.scores(query).max() == pytest.approx(2 / 61)


@pytest.mark.parametrize("ann", ["ivf", "hnsw"])
def test_approximate_dense_indexes(ann, encoder):
    texts = [f"item {i} colour {['red', 'green', 'blue'][i % 3]} shape number{i}" for i in range(400)]
    index = ChunkIndex.build(texts, kind="dense", encoder=encoder, ann=ann)
    exact = ChunkIndex.build(texts, kind="dense", encoder=encoder)
    query = "item 123 shape number123"
    assert index.search(query, k=1)[0][0] == exact.search(query, k=1)[0][0] == 123
    assert 123 not in [i for i, _ in index.search(query, k=5, exclude={123})]


def test_config_errors_name_the_field(encoder):
    with pytest.raises(AdactxError, match="IndexConfig.kind"):
        ChunkIndex.build(TEXTS, kind="magic", encoder=encoder)
    with pytest.raises(AdactxError, match="dense_weight"):
        IndexConfig(dense_weight=2.0)
    with pytest.raises(AdactxError, match="zero chunks"):
        ChunkIndex.build([], kind="bm25")


# --- save / load -------------------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
@pytest.mark.parametrize("ann", ["flat", "hnsw"])
def test_save_load_round_trip(tmp_path, kind, ann, encoder):
    index = ChunkIndex.build(TEXTS, kind=kind, encoder=encoder, ann=ann)
    index.save(tmp_path / "idx")
    loaded = ChunkIndex.load(tmp_path / "idx", encoder=encoder)
    for query in ["remote control budget", "lunch colours", "zzz"]:
        np.testing.assert_allclose(loaded.scores(query), index.scores(query), rtol=1e-6)
        assert loaded.search(query, k=3) == index.search(query, k=3)
    meta = json.loads((tmp_path / "idx" / "meta.json").read_text())
    assert meta["format"] == "adactx-chunk-index" and meta["format_version"] == 1
    assert meta["files"] and all(len(digest) == 64 for digest in meta["files"].values())
    for name in meta["files"]:  # every array reads back without pickle
        if name.endswith(".npy"):
            np.load(tmp_path / "idx" / name, allow_pickle=False)


def test_load_resolves_the_encoder_by_name(tmp_path, encoder):
    ChunkIndex.build(TEXTS, kind="dense", encoder=encoder).save(tmp_path / "idx")
    assert ChunkIndex.load(tmp_path / "idx").encoder.name == "hashing-128"
    with pytest.raises(AdactxError, match="built with encoder 'hashing-128'"):
        ChunkIndex.load(tmp_path / "idx", encoder=HashingEncoder(dim=64))


def _one_line_error(call) -> str:
    with pytest.raises(AdactxError) as info:
        call()
    assert "\n" not in str(info.value)
    return str(info.value)


@pytest.mark.parametrize(
    "name", ["dense.faiss", "embeddings.npy", "bm25/data.csc.index.npy", "bm25/vocab.index.json"]
)
def test_truncated_file_is_named(tmp_path, name, encoder):
    directory = ChunkIndex.build(TEXTS, kind="hybrid", encoder=encoder).save(tmp_path / "idx")
    path = directory / name
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])
    message = _one_line_error(lambda: ChunkIndex.load(directory, encoder=encoder))
    assert "corrupted index file" in message and name.split("/")[-1] in message


@pytest.mark.parametrize("name", ["dense.faiss", "embeddings.npy"])
def test_damaged_file_with_matching_checksum_is_still_caught(tmp_path, name, encoder):
    """Even if meta.json was rewritten to match, the parser's failure names the file."""
    directory = ChunkIndex.build(TEXTS, kind="dense", encoder=encoder).save(tmp_path / "idx")
    path = directory / name
    path.write_bytes(path.read_bytes()[:40])
    meta = json.loads((directory / "meta.json").read_text())
    from adactx.retrieval.index import file_sha256

    meta["files"][name] = file_sha256(path)
    (directory / "meta.json").write_text(json.dumps(meta))
    message = _one_line_error(lambda: ChunkIndex.load(directory, encoder=encoder))
    assert "corrupted index file" in message and name in message


def test_bad_metadata_and_missing_files(tmp_path, encoder):
    directory = ChunkIndex.build(TEXTS, kind="dense", encoder=encoder).save(tmp_path / "idx")
    (directory / "dense.faiss").unlink()
    assert "index file missing" in _one_line_error(lambda: ChunkIndex.load(directory, encoder=encoder))
    (directory / "meta.json").write_text("{not json")
    assert "meta.json" in _one_line_error(lambda: ChunkIndex.load(directory, encoder=encoder))
    (directory / "meta.json").write_text(json.dumps({"format": "adactx-chunk-index", "format_version": 99}))
    assert "format version 99" in _one_line_error(lambda: ChunkIndex.load(directory, encoder=encoder))
    (directory / "meta.json").unlink()
    assert "not an adactx index" in _one_line_error(lambda: ChunkIndex.load(directory, encoder=encoder))
    assert "not found" in _one_line_error(lambda: ChunkIndex.load(tmp_path / "nowhere"))


# --- cache ------------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tree():
    tokenizer = tiny_tokenizer()
    text = "\n\n".join(TEXTS * 3)
    return build_chunk_tree(
        document_from_text(text, doc_id="meeting"), lambda s: len(tokenizer.encode(s)), chunk_tokens=40
    )


def test_cached_index_embeds_once_per_document(tmp_path, tree):
    encoder = CountingEncoder(HashingEncoder(dim=64))
    first = cached_index(tree, "hybrid", encoder, cache_dir=tmp_path)
    embedded = encoder.texts_encoded
    assert embedded == len(tree.chunks)
    second = cached_index(tree, "hybrid", encoder, cache_dir=tmp_path)
    assert encoder.texts_encoded == embedded, "second question re-embedded the document"
    query = "kinetic battery"
    assert second.search(query, k=3) == first.search(query, k=3)
    assert len(list((tmp_path / "indexes").iterdir())) == 1
    cached_index(tree, "dense", encoder, cache_dir=tmp_path)  # another kind: another entry
    assert len(list((tmp_path / "indexes").iterdir())) == 2


def test_cached_index_rebuilds_a_damaged_entry(tmp_path, tree):
    encoder = CountingEncoder(HashingEncoder(dim=64))
    cached_index(tree, "dense", encoder, cache_dir=tmp_path)
    (entry,) = (tmp_path / "indexes").iterdir()
    (entry / "embeddings.npy").write_bytes(b"garbage")
    index = cached_index(tree, "dense", encoder, cache_dir=tmp_path)
    assert encoder.texts_encoded == 2 * len(tree.chunks)
    assert index.search("kinetic battery", k=1)
    ChunkIndex.load(entry, encoder=encoder)  # the entry was rewritten whole


def test_bm25_stemming_is_recorded(tmp_path):
    texts = ["They agreed on the colours.", "The designer presented the case."]
    stemmed = ChunkIndex.build(texts, kind="bm25")
    plain = ChunkIndex.build(texts, kind="bm25", stemmer="none")
    assert stemmed.config.stemmer == "english"
    assert stemmed.search("what was agreeing about colour", k=1)[0][0] == 0
    assert not plain.scores("agreeing").any()
    stemmed.save(tmp_path / "idx")
    assert ChunkIndex.load(tmp_path / "idx").config.stemmer == "english"


def test_metadata_must_cover_the_data_files(tmp_path, encoder):
    directory = ChunkIndex.build(TEXTS, kind="dense", encoder=encoder).save(tmp_path / "idx")
    meta = json.loads((directory / "meta.json").read_text())
    del meta["files"]["dense.faiss"]
    (directory / "meta.json").write_text(json.dumps(meta))
    assert "no checksum for dense.faiss" in _one_line_error(
        lambda: ChunkIndex.load(directory, encoder=encoder)
    )
    meta["config"]["kind"] = "magic"
    (directory / "meta.json").write_text(json.dumps(meta))
    assert "bad config" in _one_line_error(lambda: ChunkIndex.load(directory, encoder=encoder))


# --- cache keys on the resolved configuration (#11 item 7) -------------------------------------------------


def test_cached_index_keys_on_resolved_defaults_not_on_options_passed(tmp_path, tree, monkeypatch):
    """A cache built before a default changed must not be served after it (the stemming default did)."""
    from dataclasses import dataclass

    import adactx.retrieval.index as index_module

    encoder = CountingEncoder(HashingEncoder(dim=64))
    before = cached_index(tree, "hybrid", encoder, cache_dir=tmp_path)
    assert before.config.stemmer == "english"
    explicit = cached_index(tree, "hybrid", encoder, cache_dir=tmp_path, stemmer="english", fusion="minmax")
    assert len(list((tmp_path / "indexes").iterdir())) == 1  # the default spelled out: the same entry
    assert explicit.config == before.config

    @dataclass
    class NewDefaults(IndexConfig):
        stemmer: str = "none"

    monkeypatch.setattr(index_module, "IndexConfig", NewDefaults)
    after = cached_index(tree, "hybrid", encoder, cache_dir=tmp_path)  # same call, new default
    assert after.config.stemmer == "none"
    assert len(list((tmp_path / "indexes").iterdir())) == 2


def test_encoder_dtype_is_explicit_and_keys_the_cache(tree):
    from adactx.retrieval.encoders import MiniLMEncoder, encoder_config
    from adactx.retrieval.index import index_cache_key, resolved_index_config

    assert load_encoder("minilm").dtype == "float32"  # never chosen from the CPU's flags
    with pytest.raises(AdactxError, match="encoder dtype"):
        MiniLMEncoder(dtype="auto")
    fp32, bf16 = encoder_config(MiniLMEncoder()), encoder_config(MiniLMEncoder(dtype="bfloat16"))
    assert fp32["model_files"] == bf16["model_files"] and fp32["dtype"] != bf16["dtype"]
    config = resolved_index_config("hybrid")
    keys = {index_cache_key(tree, config, MiniLMEncoder(dtype=d)) for d in ("float32", "bfloat16")}
    assert len(keys) == 2
    bm25 = resolved_index_config("bm25")  # no encoder in a BM25 key
    assert index_cache_key(tree, bm25, MiniLMEncoder()) == index_cache_key(tree, bm25, None)


def test_tests_run_on_a_fresh_cache(tmp_path_factory):
    import os
    from pathlib import Path

    assert Path(os.environ["ADACTX_CACHE"]).is_relative_to(tmp_path_factory.getbasetemp())


def test_the_measured_default_row_is_the_code_default():
    """docs/retrieval.md marks the grid row the defaults were chosen from; IndexConfig must match it."""
    import re

    from helpers import ROOT

    text = (ROOT / "docs" / "retrieval.md").read_text(encoding="utf-8")
    row = re.search(r"\| \*\*hybrid (\w+), stemmer=(\w+), dense_weight=([\d.]+)\*\* \(default\)", text)
    assert row, "docs/retrieval.md: no row marked (default)"
    config = IndexConfig()
    assert (config.kind, config.fusion, config.stemmer, config.dense_weight) == (
        "hybrid", row[1], row[2], float(row[3])
    )
