"""The typed seams: what the controller needs from a reader, its sessions, an index and a chunk tree.

    class MyReader:                     # an HTTP reader, a user's model: no base class needed
        name = "my-model"; max_context = 8192
        def count_tokens(self, text): ...
        def session(self, question, task="qa"): ...   # -> something that is a ReaderSession
        ...
    isinstance(MyReader(), Reader)      # runtime-checkable (methods and attributes present)

Implementations: ``adactx.reader.HFReader`` / ``HFReaderSession`` (local transformers model),
``adactx.rl.memo.MemoReader`` / ``MemoSession`` (memoized outcomes), ``adactx.retrieval.index.ChunkIndex``,
``adactx.retrieval.chunking.ChunkTree``. ``adactx.graphs.context.ControllerContext`` holds them by these
types. Each Protocol lists what is really called: the controller (``adactx.graphs.actions``) calls the
session's ``append``, ``room``, ``draft``, ``answer`` and ``usage``; the reader's ``session`` and
``count_tokens``; the rest (``encode``, ``decode``, ``flops``, ``prompt_parts``, ``name``, ``max_context``,
``n_context``) is what the memo, the sensitivity conditions and the chunker use. A core module: it imports
nothing heavy and none of the folders.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from adactx.types import Chunk, Document, Usage

if TYPE_CHECKING:
    import numpy as np

    from adactx.reader import Generation


@runtime_checkable
class ReaderSession(Protocol):
    """An append-only context over one question: document text goes in, drafts and answers come out.

    The context is ``head + appended pieces + tail`` (see ``adactx.reader``); a session computes each
    piece once (a KV cache, or a server's prefix cache), and ``usage`` counts every token it computed,
    reused and generated."""

    usage: Usage

    @property
    def n_context(self) -> int:
        """Tokens in the context so far (the prompt head and the appended pieces)."""
        ...

    def room(self, reserve_new: int = 64) -> int:
        """How many more document tokens fit the window, keeping the tail and ``reserve_new`` to generate."""
        ...

    def append(self, text: str) -> int:
        """Add text to the context; returns its token count (raises AdactxError when it does not fit)."""
        ...

    def draft(self, max_new_tokens: int = 8) -> Generation:
        """A cheap short generation whose ``mean_logprob`` is the reader's confidence (context unchanged)."""
        ...

    def answer(self, max_new_tokens: int = 64) -> Generation:
        """The answer after ``context + tail`` (greedy; the context is unchanged). A session may also
        take ``on_token`` (a callable receiving the text as it is generated, as ``HFReaderSession``
        does); the controller streams through it where present, else sends the whole answer at once."""
        ...


@runtime_checkable
class Reader(Protocol):
    """A language model that reads a growing context: token helpers and a session per question."""

    name: str  # identifies the model (the reader memo keys on it)
    max_context: int  # the model's window in tokens

    def encode(self, text: str) -> list[int]: ...

    def count_tokens(self, text: str) -> int: ...

    def decode(self, ids: list[int]) -> str: ...

    def flops(self, n_new: int, n_past: int) -> float:
        """Forward FLOPs for ``n_new`` tokens attending to ``n_past`` cached ones."""
        ...

    def prompt_parts(self, question: str, task: str = "qa") -> tuple[str, str]:
        """(head, tail) the document pieces go between, for one question."""
        ...

    def session(self, question: str, task: str = "qa") -> ReaderSession: ...


@runtime_checkable
class ChunkTree(Protocol):
    """A document cut into sections > chunks > sentences (``adactx.retrieval.chunking.ChunkTree``)."""

    document: Document
    chunks: list[Chunk]

    @property
    def total_tokens(self) -> int: ...

    @property
    def texts(self) -> list[str]: ...

    def sentences(self, chunk_id: int) -> list[Chunk]: ...

    def neighbours(self, chunk_id: int, radius: int = 1, same_section: bool = False) -> list[int]: ...


@runtime_checkable
class Index(Protocol):
    """Retrieval over one tree's chunks (``adactx.retrieval.index.ChunkIndex``)."""

    def scores(self, query: str) -> np.ndarray:
        """One relevance score per chunk, in chunk order."""
        ...

    def search(self, query: str, k: int, exclude: Sequence[int] = ()) -> list[tuple[int, float]]: ...

    def rank_sentences(self, query: str, sentences: Sequence[str]) -> np.ndarray:
        """One relevance score per given sentence (``refine`` keeps the best)."""
        ...


__all__ = ["ChunkTree", "Index", "Reader", "ReaderSession"]
