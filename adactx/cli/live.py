"""What a running `adactx ask` / `summarize` / `trace resume` prints, as it happens.

    live = LiveAnswer(console)
    cm.ask_many(questions, doc, on_step=live.step, on_event=live.event, on_result=live.result)

Each controller step as one line, the answer's text as the reader generates it (wrapped to the
terminal's width), a summary's parts as a progress bar with the time left, and each answer's
accounting as soon as that answer is ready.
"""

from __future__ import annotations


def _step_printer(console):
    def show(step) -> None:
        conf = "" if step.confidence is None else f" conf {step.confidence:+.2f}"
        added = f"+{len(step.chunks_added)} chunks" if step.chunks_added else ""
        console.print(  # one line of at most ~75 characters per step
            f"  [cyan]{step.index + 1:>2}[/] {step.action:<9} {added:<10} context {step.context_tokens:>5}"
            f"  computed {step.usage.tokens_computed:>5}{conf} {step.latency_s:>5.1f}s",
            highlight=False,
        )

    return show


class LiveAnswer:
    """What a session prints as it runs: each step, the answer's text as it is generated, a summary's
    parts as a progress bar with ETA, and each answer's accounting as soon as that answer is ready."""

    def __init__(self, console) -> None:
        self.console = console
        self.streaming = False  # inside an answer's text (no newline printed yet)
        self.streamed = False  # this question's answer was printed as it was generated
        self.column = 0  # where the streamed answer's current line ends
        self.text = ""  # what was printed of this question's answer as it streamed
        self.parts = None  # the summary's progress bar while parts are being summarized
        self.show_step = _step_printer(console)

    def step(self, step) -> None:
        self._end_text()
        self.show_step(step)

    def event(self, event: dict) -> None:
        if event.get("kind") == "token":  # steps share the stream's queue: none arrives after its step line
            if not self.streaming:
                self.console.print("answer: ", end="", style="bold", highlight=False)
                self.streaming = self.streamed = True
                self.column = len("answer: ")
            self.text += event["text"]
            self._write(event["text"])
        elif event.get("kind") == "part":
            self._part(int(event["done"]), int(event["parts"]))

    def _write(self, piece: str) -> None:
        """Print a piece of the answer, wrapped to the terminal's width as it comes (a new line
        before a word that would pass the edge; a word longer than a line is cut)."""
        import re

        from rich.cells import cell_len, chop_cells

        width = max(self.console.width, 20)
        piece = piece.replace("\t", " ")  # a tab would print as up to 8 columns
        # a model's text may hold control characters (escape sequences, \r, \x0b...): never send them to
        # the terminal, where they would move the cursor or recolour what follows
        piece = "".join(c for c in piece if c == "\n" or c.isprintable())
        for part in re.split(r"(\n| +)", piece):
            if part == "\n" or (part.strip() and self.column and self.column + cell_len(part) > width):
                self.console.print()
                self.column = 0
            if part == "\n" or (part.startswith(" ") and self.column == 0):
                continue  # no spaces at the start of a line
            for chunk in chop_cells(part, width) if cell_len(part) > width else [part]:
                if self.column and self.column + cell_len(chunk) > width:
                    self.console.print()
                    self.column = 0
                self.console.print(chunk, end="", markup=False, highlight=False, soft_wrap=True)
                self.column += cell_len(chunk)

    def _part(self, done: int, parts: int) -> None:
        if self.parts is None:
            self.parts = progress_bar(self.console)
            self.parts.start()
            self.parts.add_task("summarizing parts", total=parts)
        self.parts.update(self.parts.task_ids[0], completed=done)
        if done >= parts or done == 0 and parts == 0:
            self._stop_parts()

    def _stop_parts(self) -> None:
        if self.parts is not None:
            self.parts.stop()
            self.parts = None

    def _end_text(self) -> None:
        self._stop_parts()
        if self.streaming:
            self.console.print()
            self.streaming = False

    def result(self, result) -> None:
        self._end_text()
        if self.streamed and _visible(self.text) != _visible(result.answer or ""):
            self.streamed = False  # text printed differs from the answer (a tokenizer that rewrote text
            # already streamed): print the answer whole, as it ended
        self.text = ""
        if not self.streamed:
            if result.answer:  # the model's text is not markup: "[red]" in an answer prints as written
                text = "".join(c for c in result.answer if c == "\n" or c.isprintable())
                self.console.print("answer: " + text, markup=False, highlight=False)
            else:
                self.console.print("answer: [dim](empty answer)[/]", highlight=False)
        self.streamed = False
        _print_result(self.console, result)


def progress_bar(console=None, *extra_columns, bar_width: int | None = 24, transient: bool = True):
    """A rich progress bar with the count, elapsed time and the estimated time left (then ``extra_columns``)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("{task.description}"), BarColumn(bar_width=bar_width), MofNCompleteColumn(),
        TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(), *extra_columns,
        console=console, transient=transient,
    )


def _visible(text: str) -> str:
    """The characters a terminal shows, without whitespace (wrapping moves it)."""
    return "".join(c for c in text if c.isprintable() and not c.isspace())


def _print_result(console, result) -> None:
    t, u = result.trace, result.trace.usage
    share = min(t.context_tokens / max(t.doc_tokens, 1), 1.0)  # QA: separators between pieces add a token or two
    console.print(
        f"read {t.context_tokens} of {t.doc_tokens} document tokens ({share:.0%}) in {len(t.steps)} steps "
        f"({t.stop_reason}); reader computed {u.tokens_computed}, reused {u.tokens_reused} from cache, "
        f"generated {u.tokens_generated}; {u.flops / 1e9:.1f} GFLOPs",
        highlight=False,
    )


__all__ = ["LiveAnswer", "progress_bar"]
