"""`adactx eval` (policies on a data set), `adactx eval perplexity`, `adactx eval passkey`."""

from __future__ import annotations

import typer

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
        help="comma-separated: full, first-L, topk-K, threshold[-TAU], rag-full[-kK], oracle, learned:DIR",
    ),
    data: str = typer.Option("qmsum:val", help="data set NAME[:SPLIT] (see `adactx data list`)"),
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
    model: str | None = typer.Option(None, help="reader model directory (default SmolLM2-135M-Instruct)"),
    memo: str | None = typer.Option(None, help="memo database (default $ADACTX_CACHE/memo.sqlite)"),
    metric: str = typer.Option(
        "score", help="what the tables score: the task's headline `score`, or a metric key such as contains"
    ),
) -> None:
    """Run policies over a data set: per-example JSONL, summary tables with bootstrap CIs, Pareto plot."""
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
        model=model,
        metric=metric,
    )
    out = out or f"runs/{data.replace(':', '-')}"
    summary = _run_with_progress(cfg, out, memo)
    print(summary["table"])
    print(f"\nrun directory: {out}")


def _run_with_progress(cfg, out: str, memo: str | None) -> dict:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    from adactx.rl.evaluate import run_eval

    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TextColumn("{task.fields[note]}"),
    ) as bar:
        task = bar.add_task(f"eval {cfg.data}", total=cfg.n, note="")

        def progress(done, total, example_id, stats):
            bar.update(
                task, completed=done, total=total, note=f"{example_id}  memo hit rate {stats['hit_rate']:.0%}"
            )

        return run_eval(cfg, out, memo_path=memo, progress=progress)
