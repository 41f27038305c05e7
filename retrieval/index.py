"""Search a document's chunks: dense (FAISS), sparse (BM25 via ``bm25s``) or hybrid, saved without pickle.

    index = ChunkIndex.build(tree.texts, kind="hybrid", encoder=load_encoder("minilm"))
    index.scores("who chairs the meeting?")           # (n_chunks,) float32, higher is better
    index.search("who chairs the meeting?", k=4, exclude={0})   # [(chunk_id, score), ...] best first
    index.rank_sentences(question, [s.text for s in tree.sentences(7)])   # for the `refine` action
    index.save("idx/");  ChunkIndex.load("idx/")
    index = cached_index(tree, "hybrid", encoder)     # built once per (document, chunking, encoder)

Kinds:
    dense   cosine similarity of L2-normalized embeddings. ``ann="flat"`` (default) is FAISS
            ``IndexFlatIP`` (exact); ``"ivf"`` (IndexIVFFlat, ~sqrt(n) lists) and ``"hnsw"`` (IndexHNSWFlat)
            are approximate and only change ``search``; ``scores`` is always exact (one matrix product).
    bm25    Okapi BM25 (``bm25s``, Lucene variant, English stop words, Snowball English stemming via
            PyStemmer when installed; ``stemmer="none"`` turns it off; the choice is saved with the index).
    hybrid  **normalized score fusion** by default: each score vector is min-max scaled to [0, 1] over the
            chunks, then ``dense_weight * dense + (1 - dense_weight) * bm25`` (0.5 each).
            ``fusion="rrf"`` gives reciprocal rank fusion instead: ``sum 1 / (rrf_k + rank)``, rrf_k = 60.

On disk (a directory): ``meta.json`` (format name and version, settings, encoder, chunk count, a sha256
of the chunk texts, and a sha256 of every other file), ``embeddings.npy`` (float32, loaded with
``allow_pickle=False``), ``dense.faiss`` (``faiss.write_index``), ``bm25/`` (``bm25s``' own npy+json
files, no pickle). ``load`` verifies every checksum before parsing, so a corrupted or truncated file raises
:class:`AdactxError` naming that file.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import re
import shutil
import uuid
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path

import numpy as np

from adactx.errors import AdactxError
from adactx.optional import has, install_hint

from .chunking import ChunkTree
from .encoders import Encoder, encoder_config, load_encoder

log = logging.getLogger(__name__)

INDEX_FORMAT = "adactx-chunk-index"
INDEX_FORMAT_VERSION = 1
INDEX_CACHE_VERSION = 2  # bump when what a cached index depends on changes: old entries then never match
INDEX_KINDS = ("hybrid", "dense", "bm25")
STEMMERS = ("english", "none")
ANN_KINDS = ("flat", "ivf", "hnsw")
FUSIONS = ("minmax", "rrf")
META_FILE = "meta.json"
EMBEDDINGS_FILE = "embeddings.npy"
FAISS_FILE = "dense.faiss"
BM25_DIR = "bm25"


@dataclass
class IndexConfig:
    """How a ChunkIndex is built and how it fuses scores; saved in ``meta.json``."""

    kind: str = field(default="hybrid", metadata={"help": f"One of {INDEX_KINDS}."})
    ann: str = field(default="flat", metadata={"help": f"FAISS index for dense search: one of {ANN_KINDS}."})
    fusion: str = field(default="minmax", metadata={"help": f"Hybrid fusion: one of {FUSIONS}."})
    dense_weight: float = field(default=0.5, metadata={"help": "Weight of the dense score in minmax fusion."})
    rrf_k: int = field(default=60, metadata={"help": "Rank offset of reciprocal rank fusion."})
    ivf_lists: int = field(default=0, metadata={"help": "IVF lists; 0 = about sqrt(n_chunks)."})
    ivf_probe: int = field(default=8, metadata={"help": "IVF lists searched per query."})
    hnsw_neighbours: int = field(default=32, metadata={"help": "HNSW graph degree M."})
    hnsw_ef_search: int = field(default=64, metadata={"help": "HNSW search breadth."})
    stemmer: str = field(default="english", metadata={"help": f"BM25 word stemming: one of {STEMMERS}."})

    def __post_init__(self) -> None:
        for name, allowed in (
            ("kind", INDEX_KINDS),
            ("ann", ANN_KINDS),
            ("fusion", FUSIONS),
            ("stemmer", STEMMERS),
        ):
            if getattr(self, name) not in allowed:
                raise AdactxError(
                    f"IndexConfig.{name}: unknown {getattr(self, name)!r}; choose from {allowed}"
                )
        if not 0.0 <= self.dense_weight <= 1.0:
            raise AdactxError(f"IndexConfig.dense_weight must be in [0, 1], got {self.dense_weight}")
        for name in ("rrf_k", "ivf_probe", "hnsw_neighbours", "hnsw_ef_search"):
            if getattr(self, name) < 1:
                raise AdactxError(f"IndexConfig.{name} must be >= 1, got {getattr(self, name)}")
        if self.ivf_lists < 0:
            raise AdactxError(f"IndexConfig.ivf_lists must be >= 0, got {self.ivf_lists}")

    @property
    def uses_dense(self) -> bool:
        return self.kind in ("dense", "hybrid")

    @property
    def uses_bm25(self) -> bool:
        return self.kind in ("bm25", "hybrid")


class ChunkIndex:
    """Scores every chunk of one document (or any list of texts) for a query. Build with ``build``."""

    def __init__(
        self,
        config: IndexConfig,
        n_chunks: int,
        texts_sha256: str,
        encoder: Encoder | None = None,
        embeddings: np.ndarray | None = None,
        faiss_index=None,
        bm25=None,
    ):
        self.config = config
        self.n_chunks = n_chunks
        self.texts_sha256 = texts_sha256
        self.encoder = encoder
        self.embeddings = embeddings  # (n_chunks, dim) float32, unit rows; None for bm25
        self.faiss_index = faiss_index
        self.bm25 = bm25
        self._query_vectors: OrderedDict[str, np.ndarray] = OrderedDict()

    # --- building ------------------------------------------------------------------------------------

    @classmethod
    def build(
        cls, texts: Sequence[str], kind: str = "hybrid", encoder: Encoder | str | None = None, **options
    ) -> ChunkIndex:
        """Index ``texts`` (one per chunk). ``encoder`` defaults to MiniLM when the kind needs one."""
        config = IndexConfig(kind=kind, **options)
        texts = list(texts)
        if not texts:
            raise AdactxError("cannot build an index over zero chunks")
        index = cls(config, len(texts), texts_checksum(texts))
        if config.uses_dense:
            index.encoder = _resolve_encoder(encoder)
            index.embeddings = index.encoder.encode(texts).astype(np.float32)
            index.faiss_index = build_faiss_index(index.embeddings, config)
        if config.uses_bm25:
            config.stemmer = available_stemmer(config.stemmer)
            index.bm25 = build_bm25(texts, config.stemmer)
        return index

    def __len__(self) -> int:
        return self.n_chunks

    @property
    def kind(self) -> str:
        return self.config.kind

    # --- scoring -------------------------------------------------------------------------------------

    def scores(self, query: str) -> np.ndarray:
        """One score per chunk, higher is better: (n_chunks,) float32."""
        dense = self._dense_scores(query) if self.config.uses_dense else None
        sparse = (
            bm25_scores(self.bm25, query, self.n_chunks, self.config.stemmer)
            if self.config.uses_bm25
            else None
        )
        return self._fuse(dense, sparse)

    def search(self, query: str, k: int, exclude: Iterable[int] = ()) -> list[tuple[int, float]]:
        """The ``k`` best chunks not in ``exclude``, best first, ties broken by position."""
        exclude = set(exclude)
        if k <= 0:
            return []
        if self.config.kind == "dense" and self.config.ann != "flat":
            return self._approximate_search(query, k, exclude)
        return top_k(self.scores(query), k, exclude)

    def rank_sentences(self, query: str, sentences: Sequence[str]) -> np.ndarray:
        """Scores of finer pieces (sentences of selected chunks) for the same query, higher is better."""
        sentences = list(sentences)
        if not sentences:
            return np.zeros(0, dtype=np.float32)
        dense = sparse = None
        if self.config.uses_dense:
            dense = self.encoder.encode(sentences) @ self._query_vector(query)
        if self.config.uses_bm25:
            stemmer = self.config.stemmer
            sparse = bm25_scores(build_bm25(sentences, stemmer), query, len(sentences), stemmer)
        return self._fuse(dense, sparse)

    def _dense_scores(self, query: str) -> np.ndarray:
        return (self.embeddings @ self._query_vector(query)).astype(np.float32)

    def _query_vector(self, query: str) -> np.ndarray:
        """The query's embedding, remembered for the last 64 queries (the controller asks repeatedly)."""
        if query not in self._query_vectors:
            self._query_vectors[query] = self.encoder.encode([query])[0]
            if len(self._query_vectors) > 64:
                self._query_vectors.popitem(last=False)
        return self._query_vectors[query]

    def _fuse(self, dense: np.ndarray | None, sparse: np.ndarray | None) -> np.ndarray:
        if sparse is None:
            return dense.astype(np.float32)
        if dense is None:
            return sparse.astype(np.float32)
        if self.config.fusion == "rrf":
            k = self.config.rrf_k
            return (1.0 / (k + ranks(dense)) + 1.0 / (k + ranks(sparse))).astype(np.float32)
        weight = self.config.dense_weight
        return (weight * minmax(dense) + (1.0 - weight) * minmax(sparse)).astype(np.float32)

    def _approximate_search(self, query: str, k: int, exclude: set[int]) -> list[tuple[int, float]]:
        wanted = min(self.n_chunks, k + len(exclude))
        scores, ids = self.faiss_index.search(self._query_vector(query)[None, :], wanted)
        hits = [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if i >= 0 and int(i) not in exclude]
        return hits[:k]

    # --- persistence -----------------------------------------------------------------------------------

    def save(self, directory: str | Path) -> Path:
        """Write the index to ``directory`` (created if needed); no pickle anywhere."""
        directory = Path(directory)
        directory.mkdir(parents=True, exist_ok=True)
        if self.config.uses_dense:
            import faiss

            np.save(directory / EMBEDDINGS_FILE, self.embeddings, allow_pickle=False)
            faiss.write_index(self.faiss_index, str(directory / FAISS_FILE))
        if self.config.uses_bm25:
            self.bm25.save(str(directory / BM25_DIR), show_progress=False)
        meta = {
            "format": INDEX_FORMAT,
            "format_version": INDEX_FORMAT_VERSION,
            "config": asdict(self.config),
            "encoder": self.encoder.name if self.encoder is not None else None,
            "dim": int(self.embeddings.shape[1]) if self.embeddings is not None else None,
            "n_chunks": self.n_chunks,
            "texts_sha256": self.texts_sha256,
            "files": {name: file_sha256(directory / name) for name in _data_files(directory)},
        }
        (directory / META_FILE).write_text(json.dumps(meta, indent=1, sort_keys=True), encoding="utf-8")
        return directory

    @classmethod
    def load(cls, directory: str | Path, encoder: Encoder | str | None = None) -> ChunkIndex:
        """Read an index written by ``save``; every file is checksummed before it is parsed."""
        directory = Path(directory)
        meta = read_meta(directory)
        config = _config_from_meta(meta, directory)
        verify_files(directory, meta["files"], _required_files(config))
        index = cls(config, int(meta["n_chunks"]), meta["texts_sha256"])
        if config.uses_dense:
            index.encoder = _matching_encoder(encoder, meta, directory)
            index.embeddings = _load_embeddings(directory / EMBEDDINGS_FILE, index.n_chunks, meta["dim"])
            index.faiss_index = _load_faiss(directory / FAISS_FILE)
        if config.uses_bm25:
            _require_stemmer(config.stemmer, directory)
            index.bm25 = _load_bm25(directory / BM25_DIR)
        return index


# --- building blocks -------------------------------------------------------------------------------------


def build_faiss_index(embeddings: np.ndarray, config: IndexConfig):
    """A FAISS inner-product index over unit rows: exact flat, IVF-flat or HNSW-flat."""
    import faiss

    n, dim = embeddings.shape
    if config.ann == "hnsw":
        index = faiss.IndexHNSWFlat(dim, config.hnsw_neighbours, faiss.METRIC_INNER_PRODUCT)
        index.hnsw.efSearch = config.hnsw_ef_search
    elif config.ann == "ivf":
        lists = config.ivf_lists or max(1, round(float(np.sqrt(n))))
        lists = min(lists, max(1, n // 39))  # FAISS wants >= 39 training points per list
        index = faiss.IndexIVFFlat(faiss.IndexFlatIP(dim), dim, lists, faiss.METRIC_INNER_PRODUCT)
        index.train(embeddings)
        index.nprobe = config.ivf_probe
    else:
        index = faiss.IndexFlatIP(dim)
    index.add(embeddings)
    return index


def available_stemmer(stemmer: str) -> str:
    """``stemmer`` if it can run here; ``"none"`` (with a warning) when PyStemmer is missing."""
    if stemmer != "none" and not has("Stemmer"):
        log.warning("PyStemmer is not installed; BM25 runs without stemming (%s)", install_hint("PyStemmer"))
        return "none"
    return stemmer


def _stem_function(stemmer: str):
    if stemmer == "none":
        return None
    import Stemmer

    return Stemmer.Stemmer(stemmer).stemWords


def _bm25s():
    """Import ``bm25s`` with its logger quieted: it sets itself to DEBUG, which floods any root handler."""
    import bm25s

    logging.getLogger("bm25s").setLevel(logging.WARNING)
    return bm25s


def build_bm25(texts: Sequence[str], stemmer: str = "none"):
    bm25s = _bm25s()

    tokens = bm25s.tokenize(list(texts), stopwords="en", stemmer=_stem_function(stemmer), show_progress=False)
    retriever = bm25s.BM25()
    retriever.index(tokens, show_progress=False)
    return retriever


def bm25_scores(retriever, query: str, n: int, stemmer: str = "none") -> np.ndarray:
    """BM25 score of every indexed text for ``query``; zeros when no query word is in the index."""
    bm25s = _bm25s()

    stem = _stem_function(stemmer)
    words = bm25s.tokenize([query], stopwords="en", stemmer=stem, return_ids=False, show_progress=False)[0]
    known = [word for word in words if word in retriever.vocab_dict]
    if not known:
        return np.zeros(n, dtype=np.float32)
    return np.asarray(retriever.get_scores(known), dtype=np.float32)


def minmax(scores: np.ndarray) -> np.ndarray:
    """Scale to [0, 1]; a constant vector becomes zeros."""
    low, high = float(scores.min()), float(scores.max())
    if high - low < 1e-12:
        return np.zeros_like(scores, dtype=np.float32)
    return ((scores - low) / (high - low)).astype(np.float32)


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based rank of each entry (1 = highest), ties by position."""
    order = np.argsort(-scores, kind="stable")
    out = np.empty(len(scores), dtype=np.float64)
    out[order] = np.arange(1, len(scores) + 1)
    return out


def top_k(scores: np.ndarray, k: int, exclude: set[int] = frozenset()) -> list[tuple[int, float]]:
    order = np.argsort(-scores, kind="stable")
    hits = []
    for chunk_id in order:
        if int(chunk_id) not in exclude:
            hits.append((int(chunk_id), float(scores[chunk_id])))
            if len(hits) == k:
                break
    return hits


def texts_checksum(texts: Sequence[str]) -> str:
    return hashlib.sha256(json.dumps(list(texts), ensure_ascii=False).encode("utf-8")).hexdigest()


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _resolve_encoder(encoder: Encoder | str | None) -> Encoder:
    if encoder is None:
        return load_encoder("minilm")
    return load_encoder(encoder) if isinstance(encoder, str) else encoder


def _data_files(directory: Path) -> list[str]:
    return sorted(
        str(path.relative_to(directory))
        for path in directory.rglob("*")
        if path.is_file() and path.name != META_FILE
    )


# --- loading, with one-line errors that name the file ---------------------------------------------------------


def read_meta(directory: Path) -> dict:
    path = directory / META_FILE
    if not directory.is_dir():
        raise AdactxError(f"index directory not found: {directory}")
    if not path.is_file():
        raise AdactxError(f"not an adactx index (no {META_FILE}): {directory}")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as err:
        raise AdactxError(f"corrupted index file {path}: not valid JSON ({type(err).__name__})") from None
    if not isinstance(meta, dict) or meta.get("format") != INDEX_FORMAT:
        raise AdactxError(f"corrupted index file {path}: not an {INDEX_FORMAT} metadata file")
    if meta.get("format_version") != INDEX_FORMAT_VERSION:
        raise AdactxError(
            f"index {directory} has format version {meta.get('format_version')}; this adactx reads "
            f"version {INDEX_FORMAT_VERSION}; rebuild the index"
        )
    missing = [key for key in ("config", "n_chunks", "texts_sha256", "files") if key not in meta]
    if missing:
        raise AdactxError(f"corrupted index file {path}: missing {', '.join(missing)}")
    problem = _meta_problem(meta)
    if problem:
        raise AdactxError(f"corrupted index file {path}: {problem}; rebuild the index")
    return meta


MAX_INDEX_CHUNKS = 10_000_000  # far above any document adactx accepts (see adactx.limits)
_DATA_FILE = re.compile(r"(embeddings\.npy|dense\.faiss|bm25/[A-Za-z0-9_.-]+)")


def _meta_problem(meta: dict) -> str:
    """What is wrong with meta.json's values, or ""; file names are checked before any file is touched,
    so a crafted index cannot probe whether files outside its directory exist."""
    n, dim, files = meta["n_chunks"], meta.get("dim"), meta["files"]
    if not isinstance(n, int) or isinstance(n, bool) or not 1 <= n <= MAX_INDEX_CHUNKS:
        return f"n_chunks must be an integer in [1, {MAX_INDEX_CHUNKS}], got {n!r}"[:160]
    if dim is not None and (not isinstance(dim, int) or isinstance(dim, bool) or not 1 <= dim <= 65536):
        return f"dim must be an integer in [1, 65536], got {dim!r}"[:160]
    if not isinstance(meta["texts_sha256"], str) or not isinstance(meta["config"], dict):
        return "texts_sha256 must be a string and config an object"
    if not isinstance(files, dict):
        return f"files must map file names to sha256 digests, got a {type(files).__name__}"
    for name, digest in files.items():
        if not _DATA_FILE.fullmatch(name) or ".." in name:
            return f"files names {name[:80]!r}, which is not an index data file"
        if not isinstance(digest, str) or not re.fullmatch(r"[0-9a-f]{64}", digest):
            return f"files[{name!r}] is not a sha256 digest"
    return ""


def _config_from_meta(meta: dict, directory: Path) -> IndexConfig:
    known = {f.name for f in fields(IndexConfig)}
    settings = meta["config"] if isinstance(meta["config"], dict) else {}
    try:
        return IndexConfig(**{key: value for key, value in settings.items() if key in known})
    except (AdactxError, TypeError) as err:
        raise AdactxError(
            f"corrupted index file {directory / META_FILE}: bad config ({_one_line(err)})"
        ) from None


def _required_files(config: IndexConfig) -> list[str]:
    required = [EMBEDDINGS_FILE, FAISS_FILE] if config.uses_dense else []
    return required + ([f"{BM25_DIR}/params.index.json"] if config.uses_bm25 else [])


def verify_files(directory: Path, checksums: dict[str, str], required: Sequence[str] = ()) -> None:
    """Every listed file exists and matches its sha256; every required file is listed."""
    unlisted = [name for name in required if name not in checksums]
    if unlisted:
        raise AdactxError(
            f"corrupted index file {directory / META_FILE}: no checksum for {', '.join(unlisted)}"
        )
    for name, expected in checksums.items():
        path = directory / name
        if path.is_symlink() or not path.is_file():  # a link could point anywhere: treated as missing
            raise AdactxError(f"index file missing: {path}")
        if file_sha256(path) != expected:
            raise AdactxError(
                f"corrupted index file {path}: checksum mismatch (truncated or modified); rebuild it"
            )


def _matching_encoder(encoder: Encoder | str | None, meta: dict, directory: Path) -> Encoder:
    encoder = _resolve_encoder(encoder if encoder is not None else meta.get("encoder"))
    if encoder.name != meta.get("encoder"):
        raise AdactxError(
            f"index {directory} was built with encoder {meta.get('encoder')!r}, not {encoder.name!r}"
        )
    return encoder


def _load_embeddings(path: Path, n_chunks: int, dim: int) -> np.ndarray:
    try:
        embeddings = np.load(path, allow_pickle=False)
    except (ValueError, OSError, EOFError) as err:
        raise AdactxError(f"corrupted index file {path}: {_one_line(err)}") from None
    if embeddings.shape != (n_chunks, dim) or embeddings.dtype != np.float32:
        raise AdactxError(
            f"corrupted index file {path}: shape {embeddings.shape}, expected ({n_chunks}, {dim})"
        )
    return embeddings


def _load_faiss(path: Path):
    import faiss

    try:
        return faiss.read_index(str(path))
    except RuntimeError as err:
        raise AdactxError(f"corrupted index file {path}: {_one_line(err)}") from None


def _require_stemmer(stemmer: str, directory: Path) -> None:
    if stemmer != "none" and not has("Stemmer"):
        raise AdactxError(
            f"index {directory} uses {stemmer} stemming, which needs PyStemmer: {install_hint('PyStemmer')}"
        )


def _load_bm25(path: Path):
    bm25s = _bm25s()

    try:
        return bm25s.BM25.load(str(path), show_progress=False)
    except (ValueError, OSError, KeyError, TypeError, json.JSONDecodeError) as err:  # TypeError: unknown params
        raise AdactxError(f"corrupted index file under {path}: {_one_line(err)}") from None


def _one_line(err: Exception, limit: int = 160) -> str:
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= limit else text[: limit - 3] + "..."


# --- on-disk cache ---------------------------------------------------------------------------------------------


def default_cache_dir() -> Path:
    return Path(os.environ.get("ADACTX_CACHE", Path.home() / ".cache" / "adactx"))


def resolved_index_config(kind: str = "hybrid", **options) -> IndexConfig:
    """The configuration an index is actually built with: every default filled in, the stemmer as it
    can run here."""
    config = IndexConfig(kind=kind, **options)
    if config.uses_bm25:
        config.stemmer = available_stemmer(config.stemmer)
    return config


def index_cache_key(tree: ChunkTree, config: IndexConfig, encoder: Encoder | None) -> str:
    """sha256 of everything a cached index depends on: the document text and chunking settings, the
    *fully resolved* index configuration (defaults included, so changing a default changes the key),
    the encoder's configuration (model files, dtype), and the format and cache-key versions."""
    from adactx.fingerprint import config_key

    return config_key(
        {
            "chunks": tree.cache_key(),
            "index": asdict(config),
            "encoder": encoder_config(encoder) if encoder is not None and config.uses_dense else None,
            "format_version": INDEX_FORMAT_VERSION,
            "cache_version": INDEX_CACHE_VERSION,
        }
    )


def cached_index(
    tree: ChunkTree,
    kind: str = "hybrid",
    encoder: Encoder | str | None = None,
    cache_dir: str | Path | None = None,
    **options,
) -> ChunkIndex:
    """The index of ``tree``'s chunks, loaded from ``<cache_dir>/indexes/<key>`` or built and saved there.

    The key (:func:`index_cache_key`) covers the document text, the chunking settings, the resolved index
    configuration and the encoder's configuration, so a second question about the same document loads
    instead of re-embedding, and nothing built under other settings or defaults is ever served. A
    damaged entry is rebuilt.
    """
    config = resolved_index_config(kind, **options)  # validate before touching the disk
    encoder = _resolve_encoder(encoder) if config.uses_dense else None
    key = index_cache_key(tree, config, encoder)
    directory = Path(cache_dir or default_cache_dir()) / "indexes" / key[:32]
    cached = _try_load(directory, encoder, tree)
    if cached is not None:
        return cached
    index = ChunkIndex.build(tree.texts, kind=kind, encoder=encoder, **options)
    _save_atomically(index, directory)
    return index


def _try_load(directory: Path, encoder: Encoder | None, tree: ChunkTree) -> ChunkIndex | None:
    if not (directory / META_FILE).is_file():
        return None
    try:
        index = ChunkIndex.load(directory, encoder=encoder)
    except AdactxError as err:
        log.warning("rebuilding cached index: %s", err)
        return None
    return index if index.texts_sha256 == texts_checksum(tree.texts) else None


def _save_atomically(index: ChunkIndex, directory: Path) -> None:
    """Save into a private temporary sibling, then rename, so readers never see half an index. Several
    threads or processes may build the same entry at once: the first rename wins, a good entry is never
    removed, and a damaged one is moved aside before ours takes its place."""
    directory.parent.mkdir(parents=True, exist_ok=True)
    staging = directory.with_name(f"{directory.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    index.save(staging)
    for _ in range(2):
        try:
            os.replace(staging, directory)  # fails while ``directory`` exists and is not empty
            return
        except OSError:
            if _loads(directory, index.encoder):
                break  # another writer's copy is as good as ours
            aside = directory.with_name(f"{directory.name}.damaged-{uuid.uuid4().hex[:8]}")
            with contextlib.suppress(OSError):
                os.replace(directory, aside)
            shutil.rmtree(aside, ignore_errors=True)
    shutil.rmtree(staging, ignore_errors=True)


def _loads(directory: Path, encoder: Encoder | None) -> bool:
    try:
        ChunkIndex.load(directory, encoder=encoder)
    except AdactxError:
        return False
    return True
