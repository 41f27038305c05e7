"""A document made ready for questions: its chunk tree and its retrieval index, built in one place.

    indexed = index_document(document, reader.count_tokens, DocumentSettings(chunk_tokens=256), encoder)
    indexed.tree.chunks, indexed.index.search("what did they decide?", k=4)

Used by the façade (``adactx.api.ContextManager.add_document``) and the RL environment
(``adactx.rl.env.Workspace``). The index is cached on disk by ``cached_index`` (keyed on the text, the
chunking, the index kind and the encoder), so the second use of a document loads instead of embedding.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from adactx.config import DocumentSettings
from adactx.protocols import ChunkTree, Index
from adactx.types import Document


@dataclass
class IndexedDocument:
    """A document, its chunk tree (sections > chunks > sentences) and the index over the chunks."""

    document: Document
    tree: ChunkTree
    index: Index


def chunk_document(document: Document, count_tokens: Callable[[str], int], settings: DocumentSettings):
    """The chunk tree of ``document``, token-counted with the reader's ``count_tokens``."""
    from adactx.retrieval.chunking import build_chunk_tree

    return build_chunk_tree(document, count_tokens, chunk_tokens=settings.chunk_tokens)


def index_document(
    document: Document,
    count_tokens: Callable[[str], int],
    settings: DocumentSettings,
    encoder=None,
    cache_dir: str | Path | None = None,
) -> IndexedDocument:
    """Chunk ``document`` and index its chunks (``encoder``: an Encoder or name; unused by bm25)."""
    from adactx.retrieval.index import cached_index

    tree = chunk_document(document, count_tokens, settings)
    return IndexedDocument(document, tree, cached_index(tree, settings.index_kind, encoder, cache_dir))


__all__ = ["IndexedDocument", "chunk_document", "index_document"]
