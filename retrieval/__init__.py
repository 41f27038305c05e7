"""adactx.retrieval: documents in, searchable chunk trees out.

The top-level folder ``retrieval/`` is installed as the package ``adactx.retrieval`` (pyproject's
package-dir mapping), so ``retrieval/index.py`` is ``adactx.retrieval.index``.

    from adactx.retrieval import load_document, build_chunk_tree, load_encoder, cached_index
    doc = load_document("meeting.txt")
    tree = build_chunk_tree(doc, count_tokens, chunk_tokens=256)       # sections > chunks > sentences
    index = cached_index(tree, "hybrid", load_encoder("minilm"))       # FAISS + BM25, cached on disk
    index.search("what did they decide?", k=4)                         # [(chunk_id, score), ...]

Modules: ``documents`` (files -> Document), ``chunking`` (ChunkTree), ``encoders`` (MiniLM, hashing),
``index`` (ChunkIndex, cached_index), ``indexed`` (a document -> IndexedDocument: tree + index).
Only adactx core is imported; faiss, bm25s and sentence-transformers load on first use.
"""

from .chunking import ChunkingConfig, ChunkTree, build_chunk_tree, detect_structure, split_sentences
from .documents import document_from_text, load_document, load_documents
from .encoders import Encoder, HashingEncoder, MiniLMEncoder, SentenceTransformerEncoder, load_encoder
from .index import ChunkIndex, IndexConfig, cached_index

__all__ = [
    "ChunkIndex",
    "ChunkTree",
    "ChunkingConfig",
    "Encoder",
    "HashingEncoder",
    "IndexConfig",
    "MiniLMEncoder",
    "SentenceTransformerEncoder",
    "build_chunk_tree",
    "cached_index",
    "detect_structure",
    "document_from_text",
    "load_document",
    "load_documents",
    "load_encoder",
    "split_sentences",
]
