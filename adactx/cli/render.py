"""Terminal rendering shared by the commands: tables whose headers are never cut, at 80 columns too.

    table = columns_table(["#", "action", "context"], rows, numeric={"#", "context"}, title="...")
    console().print(table)

Rich shrinks a column below its header when the terminal is narrow and then cuts the header to
"conte…". Here every column is at least as wide as the longest word of its header (a header wraps at
its spaces instead); numbers and the ``whole`` columns (names, ids) get a fixed width, their longest
cell or header word, and the others (free text) share the rest and wrap. The light ``SIMPLE_HEAD`` box leaves the room to the cells.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence


def columns_table(
    headers: Sequence[str],
    rows: Iterable[Sequence[str]],
    numeric: Iterable[str] = (),
    whole: Iterable[str] = (),
    **table_options,
):
    """A rich Table of ``rows`` (strings); ``numeric`` columns are right-aligned and, like ``whole``
    ones, never broken inside a cell; every header shows its words whole."""
    from rich import box
    from rich.table import Table

    rows = [list(map(str, row)) for row in rows]
    numeric, kept = set(numeric), set(numeric) | set(whole)
    options = {"box": box.SIMPLE_HEAD, "pad_edge": False, "show_edge": False, "title_justify": "left"}
    table = Table(**{**options, **table_options})
    for i, header in enumerate(headers):
        width = max(len(word) for word in header.split())
        justify = "right" if header in numeric else "left"
        if header in kept:  # a fixed width: its header wraps at spaces, rich never squeezes it further
            width = max([width, *(_longest_line(row[i]) for row in rows)])
            table.add_column(header, width=width, justify=justify, overflow="fold")
        else:
            table.add_column(header, min_width=width, justify=justify, overflow="fold")
    for row in rows:
        table.add_row(*row)
    return table


def _longest_line(text: str) -> int:
    return max((len(line) for line in text.splitlines()), default=0)


def console(**options):
    """The rich Console the commands print with (stdout)."""
    from rich.console import Console

    return Console(**options)


__all__ = ["columns_table", "console"]
