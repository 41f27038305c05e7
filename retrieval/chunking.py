"""Hierarchical, token-aware chunking: a document becomes sections > chunks > sentences.

    tree = build_chunk_tree(doc, count_tokens=lambda s: len(tok.encode(s)), chunk_tokens=256)
    tree.chunks[3].text == doc.text[tree.chunks[3].start:tree.chunks[3].end]
    tree.sentences(3)        # the sentences of chunk 3 (offsets into doc.text), for `refine`
    tree.neighbours(3)       # [2, 4], for `extend`
    tree.chunks_overlapping(start, end)   # chunk ids covering a character span (gold evidence)

How the tree is built (all offsets index ``document.text``):

1. **Structure.** ``structure="auto"`` picks one of
   ``markdown`` (a line starting with ``#`` headings: each heading starts a section),
   ``transcript`` (most lines look like ``speaker: content``, as QMSum meetings do: each turn is a block) or
   ``paragraphs`` (blank-line-separated blocks). Transcript and paragraph blocks are grouped, in order,
   into sections of about ``section_tokens``.
2. **Sentences.** Each block is split into sentences by a small regular-expression splitter (after ``.``,
   ``!``, ``?`` plus closing quotes/brackets and whitespace; not after common abbreviations or initials).
   Every sentence is token-counted exactly once; a sentence longer than ``chunk_tokens`` is cut at word
   (or, failing that, character) boundaries into pieces that fit.
3. **Chunks.** Whole sentences are packed greedily, never across a section boundary, while the sum of
   their token counts stays within ``chunk_tokens``; each candidate is then counted once as a whole
   (newlines between turns cost tokens too) and shrunk by a sentence while it is over. So
   ``Chunk.n_tokens`` is exact for its text and at most ``chunk_tokens`` (a lone over-long sentence is
   already cut to fit).
"""

from __future__ import annotations

import bisect
import hashlib
import json
import re
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from adactx.errors import AdactxError
from adactx.types import Chunk, Document

CountTokens = Callable[[str], int]
CharRange = tuple[int, int]  # [start, end) characters of the text (adactx.types.Span is gold evidence)
STRUCTURES = ("auto", "markdown", "transcript", "paragraphs")

_HEADING = re.compile(r"^#{1,6}[ \t]+\S", re.MULTILINE)
_TURN = re.compile(r"^[^\s:][^:\n]{0,48}:[ \t]")
_BLANK_LINES = re.compile(r"\n[ \t]*\n\s*")
_SENTENCE_END = re.compile(r"[.!?]+[\"'”’)\]]*\s+")
_NON_SPACE = re.compile(r"\S+")
_ABBREVIATIONS = frozenset(
    [
        "mr.",
        "mrs.",
        "ms.",
        "dr.",
        "prof.",
        "sr.",
        "jr.",
        "st.",
        "vs.",
        "e.g.",
        "i.e.",
        "fig.",
        "figs.",
        "eq.",
        "vol.",
        "approx.",
        "inc.",
        "ltd.",
        "co.",
        "cf.",
        "al.",
    ]
)
_INITIALS = re.compile(r"^(?:[A-Za-z]\.)+$")


@dataclass
class ChunkingConfig:
    """Settings of the chunk tree; part of the index cache key."""

    chunk_tokens: int = field(default=256, metadata={"help": "Most tokens per chunk (whole sentences)."})
    section_tokens: int = field(
        default=2048, metadata={"help": "Tokens per section when the document has no headings."}
    )
    structure: str = field(default="auto", metadata={"help": f"How to find sections: one of {STRUCTURES}."})

    def __post_init__(self) -> None:
        if not isinstance(self.chunk_tokens, int) or self.chunk_tokens < 1:
            raise AdactxError(
                f"ChunkingConfig.chunk_tokens must be a positive integer, got {self.chunk_tokens!r}"
            )
        if not isinstance(self.section_tokens, int) or self.section_tokens < self.chunk_tokens:
            raise AdactxError(
                f"ChunkingConfig.section_tokens must be >= chunk_tokens ({self.chunk_tokens}), "
                f"got {self.section_tokens!r}"
            )
        if self.structure not in STRUCTURES:
            raise AdactxError(
                f"ChunkingConfig.structure: unknown {self.structure!r}; choose from {STRUCTURES}"
            )

    def key(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)


@dataclass
class ChunkTree:
    """A document cut into sections > chunks > sentences. Ids are indexes into the matching list."""

    document: Document
    sections: list[Chunk]
    chunks: list[Chunk]
    all_sentences: list[Chunk] = field(default_factory=list, repr=False)
    config: ChunkingConfig = field(default_factory=ChunkingConfig)
    structure: str = "paragraphs"
    _sentence_ranges: list[CharRange] = field(default_factory=list, repr=False)

    def sentences(self, chunk_id: int) -> list[Chunk]:
        """The sentences of one chunk (level "sentence", ``parent`` = chunk_id), in order."""
        first, last = self._sentence_ranges[self._check_chunk(chunk_id)]
        return self.all_sentences[first:last]

    @property
    def total_tokens(self) -> int:
        return sum(chunk.n_tokens for chunk in self.chunks)

    @property
    def texts(self) -> list[str]:
        return [chunk.text for chunk in self.chunks]

    def neighbours(self, chunk_id: int, radius: int = 1, same_section: bool = False) -> list[int]:
        """Chunk ids within ``radius`` of ``chunk_id`` (itself excluded), nearest first, left before right."""
        self._check_chunk(chunk_id)
        section = self.chunks[chunk_id].section
        out = []
        for distance in range(1, radius + 1):
            for other in (chunk_id - distance, chunk_id + distance):
                if 0 <= other < len(self.chunks) and (
                    not same_section or self.chunks[other].section == section
                ):
                    out.append(other)
        return out

    def section_chunks(self, section_id: int) -> list[int]:
        return [chunk.chunk_id for chunk in self.chunks if chunk.section == section_id]

    def chunks_overlapping(self, start: int, end: int) -> list[int]:
        """Ids of the chunks whose characters overlap ``[start, end)`` (e.g. a gold evidence span)."""
        starts = [chunk.start for chunk in self.chunks]
        first = max(bisect.bisect_right(starts, start) - 1, 0)
        out = []
        for chunk in self.chunks[first:]:
            if chunk.start >= end:
                break
            if chunk.end > start:
                out.append(chunk.chunk_id)
        return out

    def document_hash(self) -> str:
        return hashlib.sha256(self.document.text.encode("utf-8")).hexdigest()

    def cache_key(self) -> str:
        """Identifies (document text, chunking settings): equal keys mean equal chunks."""
        return hashlib.sha256(f"{self.document_hash()}|{self.config.key()}".encode()).hexdigest()

    def _check_chunk(self, chunk_id: int) -> int:
        if not 0 <= chunk_id < len(self.chunks):
            raise AdactxError(f"unknown chunk id {chunk_id}; the tree has {len(self.chunks)} chunks")
        return chunk_id


def build_chunk_tree(
    document: Document,
    count_tokens: CountTokens,
    chunk_tokens: int = 256,
    section_tokens: int = 2048,
    structure: str = "auto",
    config: ChunkingConfig | None = None,
) -> ChunkTree:
    """Cut ``document`` into sections > chunks > sentences (see the module docstring)."""
    config = config or ChunkingConfig(chunk_tokens, section_tokens, structure)
    text = document.text
    if not text.strip():
        raise AdactxError(f"document {document.doc_id!r} is empty; nothing to chunk")
    kind = detect_structure(text) if config.structure == "auto" else config.structure
    section_groups = _sentences_by_section(text, kind, count_tokens, config)
    return _assemble_tree(document, section_groups, count_tokens, config, kind)


# --- structure ---------------------------------------------------------------------------------------


def detect_structure(text: str) -> str:
    """``markdown`` if it has ``#`` headings, ``transcript`` if most lines are ``speaker: ...`` turns."""
    if _HEADING.search(text):
        return "markdown"
    lines = [line for line in text.split("\n") if line.strip()]
    turns = sum(1 for line in lines if _TURN.match(line))
    if len(lines) >= 3 and turns >= 0.6 * len(lines):
        return "transcript"
    return "paragraphs"


def _blocks(text: str, start: int, end: int, kind: str) -> list[CharRange]:
    """Non-blank blocks of ``text[start:end]``: lines for transcripts, else blank-line paragraphs."""
    separator = re.compile(r"\n") if kind == "transcript" else _BLANK_LINES
    out, cursor = [], start
    for match in separator.finditer(text, start, end):
        out.append((cursor, match.start()))
        cursor = match.end()
    out.append((cursor, end))
    return [span for span in (_strip(text, s, e) for s, e in out) if span[1] > span[0]]


def _markdown_blocks(text: str, start: int, end: int) -> list[CharRange]:
    """Paragraphs of one markdown section; its heading line is a block (a sentence) of its own."""
    if not _HEADING.match(text, start):
        return _blocks(text, start, end, "paragraphs")
    line_end = text.find("\n", start, end)
    line_end = end if line_end < 0 else line_end
    return [_strip(text, start, line_end)] + _blocks(text, line_end, end, "paragraphs")


def _heading_sections(text: str) -> list[CharRange]:
    starts = [m.start() for m in _HEADING.finditer(text)]
    if not starts or starts[0] != 0:
        starts.insert(0, 0)
    bounds = starts + [len(text)]
    return [(bounds[i], bounds[i + 1]) for i in range(len(starts))]


# --- sentences ---------------------------------------------------------------------------------------


def split_sentences(text: str, start: int = 0, end: int | None = None) -> list[CharRange]:
    """Sentence spans (no surrounding whitespace) of ``text[start:end]``, one block of prose."""
    end = len(text) if end is None else end
    out, cursor = [], start
    for match in _SENTENCE_END.finditer(text, start, end):
        if _ends_with_abbreviation(text, cursor, match.start() + 1):
            continue
        out.append(_strip(text, cursor, match.end()))
        cursor = match.end()
    out.append(_strip(text, cursor, end))
    return [span for span in out if span[1] > span[0]]


def _ends_with_abbreviation(text: str, start: int, end: int) -> bool:
    """True if the word ending at ``end`` (just past a period) is an abbreviation or an initial."""
    word_start = max(text.rfind(" ", start, end), text.rfind("\n", start, end)) + 1
    word = text[max(word_start, start) : end]
    if not word.endswith("."):
        return False
    return word.lower() in _ABBREVIATIONS or (_INITIALS.match(word) is not None and len(word) <= 4)


def _strip(text: str, start: int, end: int) -> CharRange:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end


def _fit_pieces(text: str, span: CharRange, count_tokens: CountTokens, limit: int) -> list[tuple[CharRange, int]]:
    """Cut an over-long sentence into pieces of at most ``limit`` tokens, at word boundaries if possible."""
    start, end = span
    words = [(start + m.start(), start + m.end()) for m in _NON_SPACE.finditer(text[start:end])]
    ends = [word_end for _, word_end in words]
    pieces = []
    while start < end:
        candidates = [e for e in ends if e > start]
        cut = _largest_fitting(text, start, candidates, count_tokens, limit)
        if cut is None:  # one word alone is too long: cut inside it, character by character
            cut = (
                _largest_fitting(text, start, list(range(start + 1, end + 1)), count_tokens, limit)
                or start + 1
            )
        piece = _strip(text, start, cut)
        pieces.append((piece, count_tokens(text[piece[0] : piece[1]])))
        start = _strip(text, cut, end)[0]
    return pieces


def _largest_fitting(
    text: str, start: int, ends: list[int], count_tokens: CountTokens, limit: int
) -> int | None:
    """Binary search the largest end in ``ends`` with ``count_tokens(text[start:end]) <= limit``."""
    lo, hi, best = 0, len(ends) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if count_tokens(text[start : ends[mid]]) <= limit:
            best, lo = ends[mid], mid + 1
        else:
            hi = mid - 1
    return best


def _counted_sentences(
    text: str, block: CharRange, count_tokens: CountTokens, limit: int
) -> list[tuple[CharRange, int]]:
    out = []
    for span in split_sentences(text, *block):
        n_tokens = count_tokens(text[span[0] : span[1]])
        out.extend(_fit_pieces(text, span, count_tokens, limit) if n_tokens > limit else [(span, n_tokens)])
    return out


# --- sections ----------------------------------------------------------------------------------------


def _sentences_by_section(
    text: str, kind: str, count_tokens: CountTokens, config: ChunkingConfig
) -> list[list[tuple[CharRange, int]]]:
    """Counted sentences grouped by section, in document order."""
    limit = config.chunk_tokens
    if kind == "markdown":
        sections = [
            [
                s
                for block in _markdown_blocks(text, a, b)
                for s in _counted_sentences(text, block, count_tokens, limit)
            ]
            for a, b in _heading_sections(text)
        ]
        return _merge_heading_only(s for s in sections if s)
    blocks = [
        _counted_sentences(text, block, count_tokens, limit) for block in _blocks(text, 0, len(text), kind)
    ]
    return _group_blocks(blocks, config.section_tokens)


def _merge_heading_only(sections) -> list[list[tuple[CharRange, int]]]:
    """A section that is only its heading (one sentence) joins the section after it."""
    out, pending = [], []
    for section in sections:
        if len(section) == 1:
            pending.extend(section)
            continue
        out.append(pending + section)
        pending = []
    if pending:
        out.append(pending) if not out else out[-1].extend(pending)
    return out


def _group_blocks(blocks: list[list[tuple[CharRange, int]]], section_tokens: int) -> list[list[tuple[CharRange, int]]]:
    sections, current, current_tokens = [], [], 0
    for block in blocks:
        block_tokens = sum(n for _, n in block)
        if current and current_tokens + block_tokens > section_tokens:
            sections.append(current)
            current, current_tokens = [], 0
        current.extend(block)
        current_tokens += block_tokens
    if current:
        sections.append(current)
    return sections


# --- assembling ----------------------------------------------------------------------------------------


def _pack(
    text: str, sentences: list[tuple[CharRange, int]], count_tokens: CountTokens, chunk_tokens: int
) -> list[tuple[list[tuple[CharRange, int]], int]]:
    """Greedy packing of whole sentences into chunks of at most ``chunk_tokens`` tokens.

    Sentence counts are summed to choose a candidate; the candidate is then counted once as a whole
    (separators such as newlines between turns cost tokens too) and, if over, shrunk sentence by sentence.
    Returns (sentences, exact token count) per chunk.
    """
    groups, first = [], 0
    while first < len(sentences):
        last, total = first + 1, sentences[first][1]
        while last < len(sentences) and total + sentences[last][1] <= chunk_tokens:
            total += sentences[last][1]
            last += 1
        n_tokens = count_tokens(text[sentences[first][0][0] : sentences[last - 1][0][1]])
        while n_tokens > chunk_tokens and last - first > 1:
            last -= 1
            n_tokens = count_tokens(text[sentences[first][0][0] : sentences[last - 1][0][1]])
        groups.append((sentences[first:last], n_tokens))
        first = last
    return groups


def _assemble_tree(
    document: Document,
    section_groups: list[list[tuple[CharRange, int]]],
    count_tokens: CountTokens,
    config: ChunkingConfig,
    kind: str,
) -> ChunkTree:
    text, doc_id = document.text, document.doc_id
    sections, chunks, sentences, ranges = [], [], [], []
    for section_id, section_sentences in enumerate(section_groups):
        first_chunk = len(chunks)
        for group, n_tokens in _pack(text, section_sentences, count_tokens, config.chunk_tokens):
            chunk_id = len(chunks)
            start, end = group[0][0][0], group[-1][0][1]
            ranges.append((len(sentences), len(sentences) + len(group)))
            for (s_start, s_end), sentence_tokens in group:
                sentences.append(
                    Chunk(
                        len(sentences),
                        doc_id,
                        s_start,
                        s_end,
                        text[s_start:s_end],
                        sentence_tokens,
                        "sentence",
                        chunk_id,
                        section_id,
                    )
                )
            chunks.append(
                Chunk(
                    chunk_id, doc_id, start, end, text[start:end], n_tokens, "chunk", section_id, section_id
                )
            )
        own = chunks[first_chunk:]
        start, end = own[0].start, own[-1].end
        sections.append(
            Chunk(
                section_id,
                doc_id,
                start,
                end,
                text[start:end],
                sum(c.n_tokens for c in own),
                "section",
                None,
                section_id,
            )
        )
    return ChunkTree(document, sections, chunks, sentences, config, kind, ranges)
