"""`adactx eval` (policies on a data set), `adactx eval perplexity`, `adactx eval passkey`."""

from __future__ import annotations

import typer

app = typer.Typer(help="Evaluate policies (quality vs tokens) and long-context readers (perplexity, passkey).")

from adactx.cli import longctx  # noqa: E402

app.command("perplexity")(longctx.perplexity)
app.command("passkey")(longctx.passkey)
