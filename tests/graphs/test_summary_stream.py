"""Streaming pieces of text (``TextDelta``) and the hierarchical summary's stream and accounting, with a
tiny random reader: per-part progress, no prompt scaffolding in the combine prompt or the answer, and
never more document tokens read than the document has."""

from adactx.graphs.actions import PART_INSTRUCTION, without_scaffolding
from helpers import tiny_reader

from adactx.api import ContextManager
from adactx.reader import TextDelta

TEXT = "\n\n".join(f"Part {i}. The committee discussed item {i} and approved it after a debate." for i in range(40))


def test_text_delta_sends_pieces_that_add_up_and_waits_for_whole_characters():
    words = {1: "Hello", 2: "Hello wor", 3: "Hello wor\ufffd", 4: "Hello world é", 5: "Hello world é "}
    sent: list[str] = []
    delta = TextDelta(lambda ids: words[len(ids)], sent.append)
    for n in range(1, 6):
        delta.update(list(range(n)))
    assert sent == ["Hello", " wor", "ld é"]  # the half character waited; trailing space is not sent
    assert delta.finish(list(range(5))) == "Hello world é" == "".join(sent)
    quiet = TextDelta(lambda ids: "x", None)
    quiet.update([1])
    assert quiet.finish([1]) == "x"


def test_without_scaffolding_removes_echoed_labels_and_instructions():
    echoed = f"Part 1: The budget was cut.\n{PART_INSTRUCTION} Part 2) Summary: Buttons were approved."
    assert without_scaffolding(echoed, "Summarize the meeting.") == "The budget was cut.\n Buttons were approved."
    assert without_scaffolding("Summarize the meeting. It went well.", "Summarize the meeting.") == "It went well."
    assert without_scaffolding("The part 3 of the plan stays.") == "The part 3 of the plan stays."


class RecordingReader:
    """The tiny reader, recording what every session is given (to inspect the summary's prompts)."""

    def __init__(self, reader):
        self.reader, self.appended = reader, []
        self.name, self.max_context = reader.name, reader.max_context

    def __getattr__(self, name):
        return getattr(self.reader, name)

    def session(self, question, task="qa"):
        session = self.reader.session(question, task)
        append = session.append

        def recording_append(text):
            self.appended.append((question, text))
            return append(text)

        session.append = recording_append
        return session


def test_summary_streams_part_progress_and_reads_no_more_than_the_document(tmp_path):
    from adactx.retrieval.encoders import HashingEncoder

    reader = RecordingReader(tiny_reader(max_context=512, initializer_range=0.2))
    cm = ContextManager(reader=reader, encoder=HashingEncoder(), index_kind="bm25", chunk_tokens=32,
                        db=tmp_path / "s.sqlite", settings={"part_tokens": 96, "summary_tokens": 12})
    doc = cm.add_text(TEXT)
    events: list[dict] = []
    (result,) = cm.ask_many(["Summarize the meeting."], doc, task="summary", on_event=events.append)
    parts = [e for e in events if e["kind"] == "part"]
    n = parts[0]["parts"]
    assert n > 2 and [e["done"] for e in parts] == list(range(n + 1))  # 0 of n ... n of n
    tokens = [e["text"] for e in events if e["kind"] == "token"]
    assert tokens == [result.answer]  # the final summary, once its echoed labels are removed
    trace = result.trace
    assert trace.context_tokens == trace.doc_tokens  # every part read; separators are not document tokens
    combine = [text for question, text in reader.appended if question == "Summarize the meeting."]
    assert combine and not any("Part " in text for text in combine)
