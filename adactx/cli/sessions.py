"""`adactx ask`, `adactx summarize`, `adactx trace list|show`."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    pass
