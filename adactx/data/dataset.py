"""What a registered data set is (``DataSet``), and the tokenizer generated sets count lengths in.

    DataSet(name="qmsum", splits=("train", "val", "test"), task="query_summary", description=..., read=...)

The registry (``adactx.data.registry``) keeps them by name; the built-in ones are declared in
``adactx.data.sets``. Both import this module, neither imports the other at import time.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from adactx.types import Example

FileLoader = Callable[[str], list[Example]]
Generator = Callable[[str, int | None, int, object], list[Example]]


@dataclass(frozen=True)
class DataSet:
    """One registered set. Exactly one of ``read`` (file-backed) or ``generate`` is set."""

    name: str
    splits: tuple[str, ...]
    task: str
    description: str
    read: FileLoader | None = None
    generate: Generator | None = None

    @property
    def default_split(self) -> str:
        """The validation split when there is one, else the only / last split."""
        held_out = [s for s in ("val", "dev", "validation") if s in self.splits]
        return held_out[0] if held_out else self.splits[-1]

    @property
    def generated(self) -> bool:
        return self.generate is not None


def reader_tokenizer(tokenizer=None):
    """The tokenizer lengths are counted in: the one given, else the default reader's."""
    if tokenizer is not None:
        return tokenizer
    from adactx.reader import load_tokenizer

    return load_tokenizer()


__all__ = ["DataSet", "FileLoader", "Generator", "reader_tokenizer"]
