"""`adactx eval` (policies on a data set), `adactx eval perplexity`, `adactx eval passkey`."""

from __future__ import annotations

import typer

from adactx.cli import reader_options as ro

app = typer.Typer(
    help="Evaluate policies (quality vs tokens) and long-context readers (perplexity, passkey)."
)

from adactx.cli import longctx

app.command("perplexity")(longctx.perplexity)
app.command("passkey")(longctx.passkey)


def _split(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


@app.callback(invoke_without_command=True)
def evaluate(
    ctx: typer.Context,
    policies: str = typer.Option(
        "full,first-1024,topk-4,threshold,oracle",
        help="comma-separated: full, first-L, topk-K, threshold[-TAU], rag-full[-kK], oracle",
    ),
    data: str = typer.Option(
        "qmsum:val", help="data set NAME[:SPLIT] (see `adactx data list`), or your own .jsonl/.json/.parquet file"
    ),
    fields: str = typer.Option("", help="a data file's columns for schema fields: question=query,answers=gold"),
    n: int = typer.Option(100, help="examples (a seeded random sample of a file-backed set)"),
    seed: int = typer.Option(0, help="seed for sampling, generation and the bootstrap"),
    out: str | None = typer.Option(None, help="run directory (default runs/<data>); a rerun resumes it"),
    lambdas: str = typer.Option(
        "0,0.02,0.05", "--lambda", help="comma-separated λ: score points per 1k tokens"
    ),
    budget: int = typer.Option(4096, help="most document tokens per query (`full` reads this much)"),
    max_steps: int = typer.Option(8, help="most controller steps per query"),
    answer_tokens: int = typer.Option(16, help="most tokens in a QA answer"),
    summary_tokens: int = typer.Option(64, help="most tokens in a query-focused summary"),
    oracle_actions: str = typer.Option("retrieve-2,extend-1024", help="actions of the oracle's bounded tree"),
    oracle_depth: int = typer.Option(2, help="most actions before answering in the oracle's tree"),
    mixed_lengths: str = typer.Option(
        "1000,2000,3000", help="mixed suite: document lengths in reader tokens"
    ),
    sensitivity: bool = typer.Option(
        False, "--sensitivity", help="also run the reader-sensitivity conditions"
    ),
    encoder: str = typer.Option("minilm", help="retrieval encoder: minilm | hashing"),
    model: str | None = typer.Option(
        None, help="reader model directory (default SmolLM2-135M-Instruct); --reader openai: the served name"
    ),
    reader: str = ro.READER_OPT,
    base_url: str = ro.BASE_URL_OPT,
    tokenizer: str = ro.TOKENIZER_OPT,
    device: str = ro.DEVICE_OPT,
    dtype: str = ro.DTYPE_OPT,
    memo: str | None = typer.Option(None, help="memo database (default $ADACTX_CACHE/memo.sqlite)"),
    metric: str = typer.Option(
        "score", help="what the tables score: the task's headline `score`, or a metric key such as contains"
    ),
) -> None:
    """Run policies over a data set: per-example JSONL, summary tables with bootstrap CIs, Pareto plot.

    Your own data: `--data mine.jsonl` (or .json / .parquet), one record per example with `document` or
    `documents`, `question`, `answers` (one or many), optional `task` (qa | summary | mc) and `options`;
    `--fields question=query` reads a field from another column. The file is checked before anything loads.
    """
    if ctx.invoked_subcommand is not None:
        return
    from adactx.errors import AdactxError
    from adactx.rl.evaluate import EvalConfig

    try:
        lam = tuple(float(x) for x in _split(lambdas))
        lengths = tuple(int(x) for x in _split(mixed_lengths))
    except ValueError as exc:
        raise AdactxError(f"--lambda / --mixed-lengths: not a list of numbers ({exc})") from exc
    cfg = EvalConfig(
        data=data,
        n=n,
        seed=seed,
        policies=tuple(_split(policies)),
        budget=budget,
        max_steps=max_steps,
        answer_tokens=answer_tokens,
        summary_tokens=summary_tokens,
        lambdas=lam,
        oracle_actions=tuple(_split(oracle_actions)),
        oracle_depth=oracle_depth,
        sensitivity=sensitivity,
        mixed_lengths=lengths,
        encoder=encoder,
        model=model if reader == "hf" else f"openai:{base_url}#{model}",
        metric=metric,
        fields=fields,
    )
    spec = ro.spec(reader, base_url, model, tokenizer, device, dtype)
    examples = _user_examples(cfg)  # a data file is checked before any model loads or `out` is written
    out = out or _default_out(data)
    from adactx.reader_spec import make_reader

    summary = _run_with_progress(cfg, out, memo, reader=make_reader(spec), examples=examples)
    print(summary["table"])
    print(f"\nrun directory: {out}")


def _user_examples(cfg):
    """The examples of a ``--data`` file (validated, sampled like a built-in set); None for a named set."""
    from adactx.data.user import is_data_file
    from adactx.rl.evaluate import load_examples

    return load_examples(cfg, None) if is_data_file(cfg.data) else None


def _default_out(data: str) -> str:
    from pathlib import Path

    from adactx.data.user import is_data_file

    return f"runs/{Path(data).stem}" if is_data_file(data) else f"runs/{data.replace(':', '-')}"


def _run_with_progress(cfg, out: str, memo: str | None, reader=None, examples=None) -> dict:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from adactx.rl.evaluate import run_eval

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
    ) as bar:
        total = len(examples) if examples is not None else cfg.n
        task = bar.add_task(f"eval {cfg.data}", total=total, note="")

        def progress(done, total, example_id, stats):
            bar.update(
                task, completed=done, total=total, note=f"{example_id}  memo hit rate {stats['hit_rate']:.0%}"
            )

        return run_eval(cfg, out, reader=reader, memo_path=memo, progress=progress, examples=examples)
