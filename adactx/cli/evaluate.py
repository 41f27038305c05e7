"""`adactx eval` (policies on a data set), `adactx eval perplexity`, `adactx eval passkey`."""

from __future__ import annotations

import typer

from adactx.cli import reader_options as ro

app = typer.Typer(
    help="Evaluate policies (quality vs tokens) and long-context readers (perplexity, passkey)."
)

from adactx.cli import eval_merge, longctx
from adactx.cli.options import option, split_list
from adactx.rl.eval_config import EvalConfig
from adactx.rl.eval_workers import Parallelism
from adactx.rl.shards import parse_shard
from adactx.threads import DEFAULT_THREADS, THREADS_HELP

app.command("perplexity")(longctx.perplexity)
app.command("passkey")(longctx.passkey)
app.command("merge")(eval_merge.merge)

WORKERS_OPT = option(Parallelism, "workers", help="processes over the examples, sharing the memo and --out")
SHARD_OPT = typer.Option(
    None, "--shard", help="i/N (0-based): only every N-th example from i, for cluster jobs; then `eval merge`"
)


@app.callback(invoke_without_command=True)
def evaluate(
    ctx: typer.Context,
    policies: str = option(
        EvalConfig, "policies",
        help="comma-separated: full, first-L, topk-K, refine-K, threshold[-TAU], rag-full[-kK], oracle, learned:DIR",
    ),
    data: str = option(EvalConfig, "data"),
    fields: str = option(EvalConfig, "fields", help="a data file's columns for schema fields: question=query,answers=gold"),
    n: int = option(EvalConfig, "n"),
    seed: int = option(EvalConfig, "seed"),
    out: str | None = typer.Option(None, help="run directory (default runs/<data>); a rerun resumes it"),
    lambdas: str = option(EvalConfig, "lambdas", "--lambda", help="comma-separated λ: score points per 1k tokens"),
    budget: int = option(EvalConfig, "budget"),
    max_steps: int = option(EvalConfig, "max_steps"),
    answer_tokens: int = option(EvalConfig, "answer_tokens"),
    summary_tokens: int = option(EvalConfig, "summary_tokens"),
    oracle_actions: str = option(EvalConfig, "oracle_actions"),
    oracle_depth: int = option(EvalConfig, "oracle_depth"),
    mixed_lengths: str = option(EvalConfig, "mixed_lengths"),
    sensitivity: bool = option(EvalConfig, "sensitivity", "--sensitivity"),
    encoder: str = option(EvalConfig, "encoder"),
    model: str | None = option(
        EvalConfig, "model", help="reader model directory (default SmolLM2-135M-Instruct); --reader openai: the served name"
    ),
    reader: str = ro.READER_OPT,
    base_url: str = ro.BASE_URL_OPT,
    tokenizer: str = ro.TOKENIZER_OPT,
    device: str = ro.DEVICE_OPT,
    dtype: str = ro.DTYPE_OPT,
    adapter: str | None = ro.ADAPTER_OPT,
    memo: str | None = typer.Option(None, help="memo database (default $ADACTX_CACHE/memo.sqlite)"),
    metric: str = option(EvalConfig, "metric"),
    select_on: str | None = option(EvalConfig, "select_on"),
    select_n: int | None = option(EvalConfig, "select_n"),
    summary_quantile: float = option(EvalConfig, "summary_quantile"),
    threads: int = typer.Option(DEFAULT_THREADS, "--threads", help=THREADS_HELP + " With --workers: per worker."),
    workers: int = WORKERS_OPT,
    shard: str | None = SHARD_OPT,
) -> None:
    """Run policies over a data set: per-example JSONL, summary tables with bootstrap CIs, Pareto plot.

    Your own data: `--data mine.jsonl` (or .json / .parquet), one record per example with `document` or
    `documents`, `question`, `answers` (one or many), optional `task` (qa | summary | mc) and `options`;
    `--fields question=query` reads a field from another column. The file is checked before anything loads.
    Many processes: `--workers N` on one machine; `--shard i/N` per cluster job (default --out
    runs/<data>-shard-i-of-N), then `adactx eval merge DIR... --out DIR`: the tables of one run.
    """
    if ctx.invoked_subcommand is not None:
        return
    lam, lengths = _numbers(lambdas, mixed_lengths, budget)
    spec = ro.spec(reader, base_url, model, tokenizer, device, dtype, adapter)
    cfg = EvalConfig(
        data=data, n=n, seed=seed, policies=tuple(split_list(policies)), budget=budget, max_steps=max_steps,
        answer_tokens=answer_tokens, summary_tokens=summary_tokens, lambdas=lam,
        oracle_actions=tuple(split_list(oracle_actions)), oracle_depth=oracle_depth, sensitivity=sensitivity,
        mixed_lengths=lengths, encoder=encoder, model=model if reader == "hf" else f"openai:{base_url}#{model}",
        adapter=spec.adapter, metric=metric, select_on=select_on, select_n=select_n, summary_quantile=summary_quantile, fields=fields,
    )
    par = Parallelism(workers=workers, shard=parse_shard(shard) if shard else None, reader_spec=spec, threads=threads)
    _run_and_print(cfg, par, out, memo)


def _numbers(lambdas: str, mixed_lengths: str, budget: int) -> tuple[tuple[float, ...], tuple[int, ...]]:
    """The list options as numbers; the budget checked before any work (a huge one fails deep inside a run)."""
    from adactx.errors import AdactxError
    from adactx.limits import InputLimits

    if budget > InputLimits.max_budget:
        raise AdactxError(f"--budget {budget}: above the maximum of {InputLimits.max_budget:,} tokens")
    try:
        return tuple(float(x) for x in split_list(lambdas)), tuple(int(x) for x in split_list(mixed_lengths))
    except ValueError as exc:
        raise AdactxError(f"--lambda / --mixed-lengths: not a list of numbers ({exc})") from exc


def _run_and_print(cfg, par: Parallelism, out: str | None, memo: str | None) -> None:
    """Check the data, then run (or resume) into ``out`` (the reader loads there) and print the table."""
    from adactx.rl.safe_io import check_data_spec
    from adactx.threads import set_threads

    check_data_spec(cfg.data)  # an unknown set fails before the reader loads or `out` is written
    examples = _user_examples(cfg)  # a data file is checked before any model loads or `out` is written
    out = out or _default_out(cfg.data, par)
    print(f"run directory: {out}", flush=True)  # first: where the records land while it runs
    set_threads(par.threads)
    summary = _run_with_progress(cfg, out, memo, par, examples=examples)
    _print_tables(summary["table"])
    print(f"\nrun directory: {out}")


def _print_tables(markdown: str) -> None:
    """The tables rendered by rich in a terminal; the markdown as it is when stdout is a file or a pipe
    (the run directory's summary.md holds the same markdown)."""
    from rich.console import Console
    from rich.markdown import Markdown

    console = Console()
    if console.is_terminal:
        console.print(Markdown(markdown))
    else:
        print(markdown)


def _user_examples(cfg):
    """The examples of a ``--data`` file (validated, sampled like a built-in set); None for a named set."""
    from adactx.data.user import is_data_file
    from adactx.rl.evaluate import load_examples

    return load_examples(cfg, None) if is_data_file(cfg.data) else None


def _default_out(data: str, par: Parallelism) -> str:
    from pathlib import Path

    from adactx.data.user import is_data_file

    out = f"runs/{Path(data).stem}" if is_data_file(data) else f"runs/{data.replace(':', '-')}"
    return f"{out}-{par.shard.label()}" if par.shard else out


def _run_with_progress(cfg, out: str, memo: str | None, par: Parallelism, examples=None) -> dict:
    from rich.progress import TextColumn

    from adactx.cli.live import progress_bar
    from adactx.rl.evaluate import run_eval

    with progress_bar(None, TextColumn("{task.fields[note]}"), bar_width=None, transient=False) as bar:
        total = len(examples) if examples is not None else cfg.n
        task = bar.add_task(f"eval {cfg.data}", total=total, note="")

        def progress(done, total, example_id, stats):
            bar.update(
                task, completed=done, total=total, note=f"{example_id}  memo hit rate {stats['hit_rate']:.0%}"
            )

        return run_eval(cfg, out, memo_path=memo, progress=progress, examples=examples, parallel=par)
