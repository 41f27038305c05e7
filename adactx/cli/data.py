"""`adactx data list|show|stats`: the registered sets, a few examples, length/evidence statistics.

adactx data list                           # sets, splits, example counts
adactx data show qmsum:val --n 3           # per example: doc tokens, query, reference, evidence share
adactx data stats --out docs/figures       # histograms (PNG) + two summary tables (lengths, evidence)
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
    from adactx.cli.render import columns_table
    from adactx.data import list_sets

    rows = []
    for dataset in list_sets():
        if dataset.generated:
            splits = ", ".join(dataset.splits) + ": generated"
        else:
            splits = "\n".join(
                f"{split}: {_count(f'{dataset.name}:{split}') if counts else '-'}" for split in dataset.splits
            )
        rows.append((dataset.name, dataset.task, splits, dataset.description))
    headers = ("set", "task", "splits: examples", "what")
    _console().print(columns_table(headers, rows, whole={"set", "task"}, title="adactx data sets"))


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
    """Show examples: document length in reader tokens, query, reference, evidence share."""
    from adactx.data import load
    from adactx.reader import load_tokenizer

    tokenizer = load_tokenizer()
    examples = load(spec, n=n, seed=seed, tokenizer=tokenizer)
    console = _console()
    console.print(f"[bold]{spec}[/]: {len(examples)} example(s), seed {seed}", highlight=False)
    for ex in examples:
        _print_example(console, ex, tokenizer)


def _print_example(console, ex, tokenizer) -> None:
    """One example as a header line and labelled, wrapped fields (reads at any terminal width)."""
    from rich.rule import Rule
    from rich.table import Table

    from adactx.data.stats import evidence_share

    tokens = sum(len(tokenizer(d.text, add_special_tokens=False)["input_ids"]) for d in ex.documents)
    spans = f"{len(ex.evidence)} span{'s' if len(ex.evidence) != 1 else ''}"
    share = f"evidence {evidence_share(ex):.1%} of the document ({spans})" if ex.evidence else "no evidence spans"
    console.print(Rule(style="dim"))
    console.print(f"[bold]{ex.example_id}[/]  {tokens:,} doc tokens  {share}", highlight=False)
    fields = Table.grid(padding=(0, 1))
    fields.add_column(style="cyan", no_wrap=True)
    fields.add_column(overflow="fold")
    query = ex.query + ("".join(f"\n{o}" for o in ex.options) if ex.options else "")
    fields.add_row("query", query if ex.options else _clip(query, 240))
    fields.add_row("reference", _clip(" | ".join(ex.references), 200))
    console.print(fields)


def _console():
    from adactx.cli.render import console

    return console()


@app.command("stats")
def stats_command(
    sets: Annotated[
        str, typer.Option("--sets", help="Comma-separated NAME[:SPLIT] specs (default: the main sets).")
    ] = "",
    out: Annotated[Path, typer.Option("--out", help="Folder for data_*.png.")] = Path("docs/figures"),
    n: Annotated[int, typer.Option("--n", help="Examples per set (0 = all; generated: default size).")] = 0,
    seed: Annotated[int, typer.Option("--seed", help="Sample / generation seed.")] = 0,
) -> None:
    """Document-length and evidence-position histograms per set (PNG), and two summary tables."""
    from adactx.data import load
    from adactx.data.stats import DEFAULT_STATS_SPECS, plot_histograms, set_stats
    from adactx.reader import load_tokenizer

    tokenizer = load_tokenizer()
    specs = [s.strip() for s in sets.split(",") if s.strip()] or list(DEFAULT_STATS_SPECS)
    all_stats = [set_stats(s, load(s, n=n or None, seed=seed, tokenizer=tokenizer), tokenizer) for s in specs]
    console = _console()
    rows = [s.summary() for s in all_stats]
    for title, columns in STATS_TABLES:
        console.print(_stats_table(title, columns, rows))
    for path in plot_histograms(all_stats, out):
        console.print(f"wrote {path}")


# (title, [(header, key in SetStats.summary())]): two tables, so each fits 80 columns
STATS_TABLES = (
    ("document lengths (reader tokens)", [
        ("set", "set"), ("examples", "examples"), ("documents", "documents"),
        ("median tokens", "tokens_median"), ("p90 tokens", "tokens_p90"),
    ]),
    ("gold evidence: share of the document, position (0 = start, 1 = end)", [
        ("set", "set"), ("with evidence", "with_evidence"), ("evidence share", "evidence_share"),
        ("median position", "evidence_pos_median"), ("first third", "evidence_first_third"),
        ("last third", "evidence_last_third"),
    ]),
)


def _stats_table(title: str, columns: list[tuple[str, str]], rows: list[dict]):
    from adactx.cli.render import columns_table

    headers = [header for header, _ in columns]
    cells = [[_cell(row[key]) for _, key in columns] for row in rows]
    return columns_table(headers, cells, numeric=set(headers) - {"set"}, whole={"set"}, title=title)


def _cell(value) -> str:
    if value is None:
        return "-"
    if isinstance(value, float):
        return f"{value:,.0f}" if value >= 100 else f"{value:.3f}"
    return f"{value:,}" if isinstance(value, int) else str(value)
