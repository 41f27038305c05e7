"""The chunk tree: offsets, token limits, structure detection, sentence splitting, navigation, speed."""

from __future__ import annotations

import re
import time

import pytest
from adactx.retrieval.chunking import (
    ChunkingConfig,
    ChunkTree,
    build_chunk_tree,
    detect_structure,
    split_sentences,
)
from adactx.retrieval.documents import document_from_text
from helpers import tiny_tokenizer

from adactx.errors import AdactxError


@pytest.fixture(scope="module")
def count_tokens():
    tokenizer = tiny_tokenizer()
    return lambda text: len(tokenizer.encode(text, add_special_tokens=False))


def prose(n_paragraphs: int, sentences_per_paragraph: int = 6) -> str:
    paragraphs = []
    for p in range(n_paragraphs):
        sentences = [
            f"Paragraph {p} sentence {s} talks about the budget and the remote control design."
            for s in range(sentences_per_paragraph)
        ]
        paragraphs.append(" ".join(sentences))
    return "\n\n".join(paragraphs)


def transcript(n_turns: int) -> str:
    speakers = ["Project Manager", "Marketing", "User Interface", "Industrial Designer"]
    return "\n".join(
        f"{speakers[t % 4]}: Turn {t} is about the schedule . Um , we agree ." for t in range(n_turns)
    )


def check_tree_invariants(tree: ChunkTree, count_tokens) -> None:
    text = tree.document.text
    assert tree.chunks and tree.sections
    for index, chunk in enumerate(tree.chunks):
        assert chunk.chunk_id == index and chunk.level == "chunk"
        assert chunk.text == text[chunk.start : chunk.end]
        assert chunk.parent == chunk.section and 0 <= chunk.section < len(tree.sections)
        assert chunk.n_tokens == count_tokens(chunk.text)
        assert chunk.n_tokens <= tree.config.chunk_tokens
        sentences = tree.sentences(index)
        assert sentences and sentences[0].start == chunk.start and sentences[-1].end == chunk.end
        for sentence in sentences:
            assert sentence.level == "sentence" and sentence.parent == index
            assert sentence.text == text[sentence.start : sentence.end]
    for before, after in zip(tree.chunks, tree.chunks[1:]):
        assert before.end <= after.start and not text[before.end : after.start].strip(), (
            "text lost between chunks"
        )
    assert not text[: tree.chunks[0].start].strip() and not text[tree.chunks[-1].end :].strip()
    for section in tree.sections:
        assert section.level == "section" and section.text == text[section.start : section.end]
        assert section.n_tokens == sum(tree.chunks[i].n_tokens for i in tree.section_chunks(section.chunk_id))
    assert tree.total_tokens == sum(chunk.n_tokens for chunk in tree.chunks)


def test_paragraph_document(count_tokens):
    doc = document_from_text(prose(12), doc_id="prose")
    tree = build_chunk_tree(doc, count_tokens, chunk_tokens=64, section_tokens=256)
    assert tree.structure == "paragraphs"
    check_tree_invariants(tree, count_tokens)
    assert len(tree.sections) > 1 and len(tree.chunks) > len(tree.sections)
    assert all(chunk.text.endswith(".") for chunk in tree.chunks), "chunks end at sentence boundaries"


def test_markdown_sections_follow_headings(count_tokens):
    text = "# Title\n\n## Intro\n\nWe study budgets. They matter.\n\n## Method\n\nWe count tokens. Then we pack.\n"
    tree = build_chunk_tree(document_from_text(text), count_tokens, chunk_tokens=64)
    assert tree.structure == "markdown"
    check_tree_invariants(tree, count_tokens)
    assert [s.text.split("\n")[0] for s in tree.sections] == [
        "# Title",
        "## Method",
    ]  # heading-only joins next
    assert tree.sentences(0)[0].text == "# Title"


def test_transcript_turns(count_tokens):
    doc = document_from_text(transcript(60), doc_id="meeting")
    tree = build_chunk_tree(doc, count_tokens, chunk_tokens=96, section_tokens=400)
    assert tree.structure == "transcript"
    check_tree_invariants(tree, count_tokens)
    turn_starts = {m.start() for m in re.finditer(r"^", doc.text, re.MULTILINE)}
    assert all(chunk.start in turn_starts for chunk in tree.chunks), "chunks start at a turn"
    assert all(len(tree.section_chunks(s.chunk_id)) >= 1 for s in tree.sections)


def test_over_long_sentence_is_cut_to_fit(count_tokens):
    words = " ".join(f"word{i}" for i in range(400))  # one sentence, no punctuation
    giant = "x" * 3000  # one word longer than a chunk
    tree = build_chunk_tree(document_from_text(f"{words}\n\n{giant}"), count_tokens, chunk_tokens=50)
    check_tree_invariants(tree, count_tokens)
    assert len(tree.chunks) > 10


def test_sentence_splitter():
    text = "Dr. Smith met Mr. Jones in the U.S. today. It rained! Did it? Yes (really.) Then e.g. this one."
    pieces = [text[a:b] for a, b in split_sentences(text)]
    assert pieces == [
        "Dr. Smith met Mr. Jones in the U.S. today.",
        "It rained!",
        "Did it?",
        "Yes (really.)",
        "Then e.g. this one.",
    ]
    qmsum = "Professor E: So . OK . Doesn't look like it crashed . That 's great ."
    assert len(split_sentences(qmsum)) == 4


def test_structure_detection():
    assert detect_structure("# Heading\ntext") == "markdown"
    assert detect_structure(transcript(5)) == "transcript"
    assert detect_structure(prose(2)) == "paragraphs"
    assert detect_structure("Note: one line with a colon.\nAnd prose.\nMore prose.") == "paragraphs"


def test_neighbours_and_overlap(count_tokens):
    tree = build_chunk_tree(document_from_text(prose(10)), count_tokens, chunk_tokens=64, section_tokens=128)
    last = len(tree.chunks) - 1
    assert tree.neighbours(0) == [1]
    assert tree.neighbours(last) == [last - 1]
    assert tree.neighbours(3, radius=2) == [2, 4, 1, 5]
    middle = tree.section_chunks(1)
    assert set(tree.neighbours(middle[0], radius=50, same_section=True)) == set(middle) - {middle[0]}
    chunk = tree.chunks[4]
    assert tree.chunks_overlapping(chunk.start + 1, chunk.start + 2) == [4]
    assert tree.chunks_overlapping(chunk.start, tree.chunks[6].start + 1) == [4, 5, 6]
    with pytest.raises(AdactxError, match="unknown chunk id"):
        tree.sentences(last + 1)


def test_config_errors_name_the_field(count_tokens):
    doc = document_from_text("Some text.")
    with pytest.raises(AdactxError, match="chunk_tokens"):
        build_chunk_tree(doc, count_tokens, chunk_tokens=0)
    with pytest.raises(AdactxError, match="section_tokens"):
        build_chunk_tree(doc, count_tokens, chunk_tokens=100, section_tokens=10)
    with pytest.raises(AdactxError, match="structure"):
        ChunkingConfig(structure="poems")


def test_cache_key_tracks_text_and_settings(count_tokens):
    doc = document_from_text(prose(3))
    key = build_chunk_tree(doc, count_tokens, chunk_tokens=64).cache_key()
    assert key == build_chunk_tree(doc, count_tokens, chunk_tokens=64).cache_key()
    assert key != build_chunk_tree(doc, count_tokens, chunk_tokens=65).cache_key()
    assert key != build_chunk_tree(document_from_text(prose(4)), count_tokens, chunk_tokens=64).cache_key()


def test_long_document_counts_each_sentence_about_once(count_tokens):
    calls = 0

    def counting(text: str) -> int:
        nonlocal calls
        calls += 1
        return count_tokens(text)

    doc = document_from_text(transcript(1500), doc_id="long")  # ~ 30k tiny-tokenizer tokens
    started = time.perf_counter()
    tree = build_chunk_tree(doc, counting, chunk_tokens=256)
    elapsed = time.perf_counter() - started
    assert tree.total_tokens > 25_000
    assert calls <= len(tree.all_sentences) + 4 * len(tree.chunks), calls
    assert elapsed < 10, f"chunking took {elapsed:.1f}s"
