"""Loading documents: every supported format, and a one-line AdactxError for each kind of bad input."""

from __future__ import annotations

import json

import pytest
from adactx.retrieval.documents import TEXT_FIELDS, document_from_text, load_document, load_documents

from adactx.errors import AdactxError


def make_pdf(path, lines: list[str]) -> None:
    """A minimal valid one-page PDF with Helvetica text, built byte by byte (no PDF writer needed)."""
    content = " ".join(f"BT /F1 12 Tf 72 {720 - 20 * i} Td ({line}) Tj ET" for i, line in enumerate(lines))
    content = content.encode("latin-1")
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        (
            b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
            b" /Resources << /Font << /F1 5 0 R >> >> >>"
        ),
        b"<< /Length %d >>\nstream\n" % len(content) + content + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out, offsets = bytearray(b"%PDF-1.4\n"), []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path.write_bytes(bytes(out))


def error_of(path, **kwargs) -> str:
    with pytest.raises(AdactxError) as info:
        load_document(path, **kwargs)
    message = str(info.value)
    assert "\n" not in message, f"error must be one line: {message!r}"
    return message


# --- good input ------------------------------------------------------------------------------------------


def test_txt_and_md(tmp_path):
    (tmp_path / "notes.txt").write_text("First line.\nSecond line.\n", encoding="utf-8")
    (tmp_path / "readme.md").write_text("# Title\n\nBody text.\n", encoding="utf-8")
    doc = load_document(tmp_path / "notes.txt")
    assert (doc.doc_id, doc.text, doc.source) == (
        "notes",
        "First line.\nSecond line.\n",
        str(tmp_path / "notes.txt"),
    )
    assert load_document(tmp_path / "readme.md").text.startswith("# Title")


def test_crlf_and_bom_are_normalized(tmp_path):
    (tmp_path / "win.txt").write_bytes(b"\xef\xbb\xbfOne.\r\nTwo.\rThree.")
    assert load_document(tmp_path / "win.txt").text == "One.\nTwo.\nThree."


def test_jsonl_one_document_per_line(tmp_path):
    path = tmp_path / "corpus.jsonl"
    lines = [{"id": "a", "text": "Alpha text.", "title": "A"}, {"content": "Beta text."}, {"text": "Gamma."}]
    path.write_text("\n".join(json.dumps(x) for x in lines) + "\n\n", encoding="utf-8")
    docs = load_documents(path)
    assert [d.doc_id for d in docs] == ["a", "corpus:2", "corpus:3"]
    assert [d.text for d in docs] == ["Alpha text.", "Beta text.", "Gamma."]
    assert docs[0].title == "A" and docs[1].source == f"{path}:2"
    assert load_document(path, line=2).text == "Beta text."
    assert "3 documents" in error_of(path)
    assert "line 7" in error_of(path, line=7)


def test_jsonl_speaker_turns_become_qmsum_lines(tmp_path):
    path = tmp_path / "meeting.jsonl"
    turns = [{"speaker": "Grad A", "content": "Hello ."}, {"speaker": "PhD B", "content": "Hi there ."}]
    path.write_text(json.dumps({"meeting_transcripts": turns}) + "\n", encoding="utf-8")
    assert load_document(path).text == "Grad A: Hello .\nPhD B: Hi there ."


def test_pdf_text_is_extracted(tmp_path):
    make_pdf(tmp_path / "paper.pdf", ["Adaptive context grows step by step.", "The budget ends the loop."])
    doc = load_document(tmp_path / "paper.pdf")
    assert doc.doc_id == "paper"
    assert "Adaptive context grows step by step." in doc.text and "budget ends the loop" in doc.text


def test_document_from_text():
    doc = document_from_text("Some text.\r\n", doc_id="note", title="T")
    assert (doc.doc_id, doc.text, doc.title) == ("note", "Some text.\n", "T")
    anonymous = document_from_text("Some text.")
    assert (
        anonymous.doc_id.startswith("text-") and anonymous.doc_id == document_from_text("Some text.").doc_id
    )


# --- bad input: one line that names the problem ------------------------------------------------------------


def test_missing_file(tmp_path):
    assert "file not found" in error_of(tmp_path / "nope.txt")


def test_directory_is_not_a_file(tmp_path):
    assert "not a regular file" in error_of(tmp_path)


@pytest.mark.parametrize("content, detail", [(b"", "0 bytes"), (b"  \n\t\n  ", "only whitespace")])
def test_empty_file(tmp_path, content, detail):
    (tmp_path / "empty.txt").write_bytes(content)
    message = error_of(tmp_path / "empty.txt")
    assert "empty file" in message and detail in message and "empty.txt" in message


def test_binary_file(tmp_path):
    (tmp_path / "image.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")
    message = error_of(tmp_path / "image.txt")
    assert "binary file" in message and "offset 8" in message


def test_non_utf8_text_names_the_byte_offset(tmp_path):
    (tmp_path / "latin1.txt").write_bytes("Caf\xe9 au lait.".encode("latin-1"))
    message = error_of(tmp_path / "latin1.txt")
    assert "not UTF-8" in message and "0xe9" in message and "offset 3" in message


def test_utf16_text(tmp_path):
    (tmp_path / "utf16.txt").write_bytes("Hello.".encode("utf-16"))
    assert "UTF-16" in error_of(tmp_path / "utf16.txt")


@pytest.mark.parametrize(
    "line, expected",
    [
        ('{"text": "ok"', "malformed JSON"),
        ('["a list"]', "expected a JSON object"),
        ('{"body": "no known field"}', "no text field"),
        ('{"text": 42}', "field 'text' must be a string"),
        ('{"text": "   "}', "field 'text' is empty"),
        ('{"meeting_transcripts": [{"speaker": "A"}]}', "turn 0"),
    ],
)
def test_malformed_jsonl_line_names_file_line_and_field(tmp_path, line, expected):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"text": "fine line."}\n' + line + "\n", encoding="utf-8")
    message = error_of(path)
    assert f"{path}:2" in message and expected in message


def test_missing_text_field_lists_accepted_fields(tmp_path):
    path = tmp_path / "bad.jsonl"
    path.write_text('{"body": "x"}\n', encoding="utf-8")
    assert all(name in error_of(path) for name in TEXT_FIELDS)


def test_corrupt_pdf(tmp_path):
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.4\nthis is not really a pdf")
    message = error_of(tmp_path / "broken.pdf")
    assert "broken.pdf" in message and "PDF" in message


def test_pdf_without_text(tmp_path):
    make_pdf(tmp_path / "blank.pdf", [])
    assert "no extractable text" in error_of(tmp_path / "blank.pdf")


@pytest.mark.parametrize("text", ["", " \n\t "])
def test_document_from_empty_text(text):
    with pytest.raises(AdactxError, match="empty"):
        document_from_text(text, doc_id="x")
