"""`adactx data list|show|stats`: the registered sets, a few examples, length/evidence statistics.

adactx data list                           # sets, splits, example counts
adactx data show qmsum:val --n 3           # a table: doc tokens, query, reference, evidence share
adactx data stats --out docs/figures       # histograms (PNG) + a summary table
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

app = typer.Typer(
    help="Inspect the real data sets: splits, counts, examples, statistics.", no_args_is_help=True
)


@app.callback()
def _one_line_warnings() -> None:
    """Loader warnings (a skipped malformed line) print as one line, without the source line."""
    import warnings

    warnings.formatwarning = lambda message, *_args, **_kw: f"warning: {message}\n"


def _count(spec: str) -> str:
    from adactx.data import load
    from adactx.errors import AdactxError

    try:
        return str(len(load(spec)))
    except AdactxError:
        return "not provided"


@app.command("list")
def list_command(
    counts: Annotated[
        bool, typer.Option("--counts/--no-counts", help="Load each split to count its examples.")
    ] = True,
) -> None:
    """List the data sets, their splits and example counts (generated sets: built on demand)."""
    from rich.console import Console
    from rich.table import Table

    from adactx.data import list_sets

    table = Table(title="adactx data sets")
    for column in ("set", "task", "splits: examples", "what"):
        table.add_column(column, overflow="fold")
    for dataset in list_sets():
        if dataset.generated:
            splits = ", ".join(dataset.splits) + ": generated"
        else:
            splits = "\n".join(
                f"{split}: {_count(f'{dataset.name}:{split}') if counts else '-'}" for split in dataset.splits
            )
        table.add_row(dataset.name, dataset.task, splits, dataset.description)
    Console().print(table)


def _clip(text: str, width: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= width else text[: width - 1] + "…"


@app.command("show")
def show_command(
    spec: Annotated[str, typer.Argument(help="NAME[:SPLIT], e.g. qmsum:val, bamboo-paperqa-16k, mixed:test")],
    n: Annotated[
        int, typer.Option("--n", help="How many examples (a seeded sample for file-backed sets).")
    ] = 3,
    seed: Annotated[int, typer.Option("--seed", help="Sample / generation seed.")] = 0,
) -> None:
    """Show examples as a table: document length in reader tokens, query, reference, evidence share."""
    from rich.console import Console
    from rich.table import Table

    from adactx.data import load
    from adactx.data.stats import evidence_share
    from adactx.reader import load_tokenizer

    tokenizer = load_tokenizer()
    examples = load(spec, n=n, seed=seed, tokenizer=tokenizer)
    table = Table(title=f"{spec}: {len(examples)} example(s), seed {seed}")
    for column in ("id", "doc tokens", "query", "reference", "evidence share"):
        table.add_column(column, overflow="fold")
    for ex in examples:
        tokens = sum(len(tokenizer(d.text, add_special_tokens=False)["input_ids"]) for d in ex.documents)
        query = ex.query + ("".join(f"\n{o}" for o in ex.options) if ex.options else "")
        share = f"{evidence_share(ex):.1%} ({len(ex.evidence)} spans)" if ex.evidence else "-"
        table.add_row(
            ex.example_id,
            str(tokens),
            _clip(query, 240) if not ex.options else query,
            _clip(" | ".join(ex.references), 200),
            share,
        )
    Console().print(table)


@app.command("stats")
def stats_command(
    sets: Annotated[
        str, typer.Option("--sets", help="Comma-separated NAME[:SPLIT] specs (default: the main sets).")
    ] = "",
    out: Annotated[Path, typer.Option("--out", help="Folder for data_*.png.")] = Path("docs/figures"),
    n: Annotated[int, typer.Option("--n", help="Examples per set (0 = all; generated: default size).")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Sample / generation seed.")] = 0,
) -> None:
    """Document-length and evidence-position histograms per set (PNG), and a summary table."""
    from rich.console import Console
    from rich.table import Table

    from adactx.data import load
    from adactx.data.stats import DEFAULT_STATS_SPECS, plot_histograms, set_stats
    from adactx.reader import load_tokenizer

    tokenizer = load_tokenizer()
    specs = [s.strip() for s in sets.split(",") if s.strip()] or list(DEFAULT_STATS_SPECS)
    all_stats = [set_stats(s, load(s, n=n or None, seed=seed, tokenizer=tokenizer), tokenizer) for s in specs]
    table = Table(title="document lengths (reader tokens) and gold evidence")
    rows = [s.summary() for s in all_stats]
    for column in rows[0]:
        table.add_column(column)
    for row in rows:
        table.add_row(
            *[f"{v:.3f}" if isinstance(v, float) else ("-" if v is None else str(v)) for v in row.values()]
        )
    console = Console()
    console.print(table)
    for path in plot_histograms(all_stats, out):
        console.print(f"wrote {path}")
