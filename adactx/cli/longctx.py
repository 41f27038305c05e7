"""`adactx eval perplexity` and `adactx eval passkey`: long-context reader evaluations (LongLoRA's).

    adactx eval perplexity --data ../shared/data/qmsum/ALL/jsonl/test.jsonl --lengths 8192,12288,16384 \
        --rope-factor 2 --max-windows 4 --seed 0 --out runs/ppl.json     # windows from single documents
    adactx eval perplexity --windows stream --stride 256 --max-windows 4 ...   # LongLoRA's sliding windows
    adactx eval passkey --lengths 12288,16384 --trials 5 --adapter runs/longlora/adapter --out runs/pk.json

Both load the reader with ``adactx.kernels.lora.load_longlora_reader`` (base model, optional LongLoRA
adapter merged, linear position interpolation), print a table and save JSON.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Annotated

import typer

ModelOpt = Annotated[str | None, typer.Option("--model", help="Local HF model directory (default: SmolLM2-135M).")]
AdapterOpt = Annotated[str | None, typer.Option(
    "--adapter", help="LongLoRA/PEFT adapter directory merged on load; default: the reader's (builtin:smollm2-sft "
                      "on the bundled model); `none`: the base model.")]
RopeOpt = Annotated[
    float | None,
    typer.Option("--rope-factor", help="Linear position-interpolation factor (default: the adapter's, else 1)."),
]
LengthsOpt = Annotated[str, typer.Option("--lengths", help="Comma-separated lengths in tokens, e.g. 8192,16384.")]
OutOpt = Annotated[Path | None, typer.Option("--out", help="Write the results as JSON here.")]
DtypeOpt = Annotated[str, typer.Option("--dtype", help="bfloat16 or float32.")]
ThreadsOpt = Annotated[int | None, typer.Option("--threads", help="torch CPU threads.")]


def _lengths(raw: str) -> list[int]:
    from adactx.errors import AdactxError

    try:
        lengths = [int(x) for x in raw.replace(" ", "").split(",") if x]
    except ValueError:
        raise AdactxError(f"--lengths {raw}: give comma-separated integers, e.g. 8192,16384") from None
    if not lengths or min(lengths) < 16:
        raise AdactxError(f"--lengths {raw}: give lengths of at least 16 tokens")
    return lengths


def _load(model, adapter, rope_factor, dtype, threads):
    import torch

    from adactx.errors import AdactxError
    from adactx.kernels.lora import load_longlora_reader

    if threads:
        torch.set_num_threads(threads)
    if rope_factor is not None and rope_factor < 1:
        raise AdactxError(f"--rope-factor {rope_factor}: must be >= 1")
    return load_longlora_reader(model, adapter, rope_factor=rope_factor, dtype=dtype)


def _settings(reader, model, adapter) -> dict:
    from adactx.kernels.position import rope_scaling_of
    from adactx.reader import adapter_name

    return {"model": model or "smollm2-135m", "adapter": adapter_name(adapter, model),
            "rope_factor": rope_scaling_of(reader.model)}


def _save(out: Path | None, payload: dict) -> None:
    import json

    if out is not None:
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(payload, indent=2))
        typer.echo(f"saved {out}")


def _stream_results(reader, data, wanted, stride, max_windows, console):
    from adactx.kernels.evaluate import eval_tokens, perplexity_at_lengths

    budget = max(wanted) + stride * ((max_windows or 64) - 1)
    tokens = eval_tokens(data, reader.tokenizer, budget)
    results = perplexity_at_lengths(
        reader.model, tokens, wanted, stride, max_windows,
        on_window=lambda offset, n: console.print(f"window at {offset}: {n} tokens"),
    )
    return results, {"windows": "stream", "stride": stride, "max_windows": max_windows}


def _document_results(reader, data, wanted, n_windows, seed, console):
    from adactx.kernels.evaluate import document_perplexity, eval_documents

    documents = eval_documents(data, reader.tokenizer)
    results, windows = document_perplexity(
        reader.model, documents, wanted, n_windows, seed,
        on_window=lambda doc, offset, n: console.print(f"document {doc} at {offset}: {n} tokens"),
    )
    eligible = sum(len(d) >= max(wanted) for d in documents)
    console.print(f"{len(windows)} windows from {len({d for d, _ in windows})} of {eligible} documents "
                  f">= {max(wanted)} tokens ({len(documents)} documents)")
    return results, {"windows": "documents", "max_windows": n_windows, "seed": seed,
                     "documents": len(documents), "eligible_documents": eligible, "drawn": windows}


def _perplexity_table(reader, results, rope_factor):
    from rich.table import Table

    from adactx.kernels.evaluate import segment_nll

    table = Table(title=f"perplexity ({reader.name}, rope x{rope_factor:g})")
    for column in ("length", "windows", "tokens scored", "mean NLL", "perplexity", "ppl of added tokens", "seconds"):
        table.add_column(column, justify="right")
    segments: dict[int, float] = {}
    for prev, r in zip([None, *results], results):
        if prev is not None and prev.windows == r.windows:  # same windows: the extra tokens' NLL is exact
            segments[r.length] = segment_nll(prev, r)
        added = f"{math.exp(segments[r.length]):.3f}" if r.length in segments else "-"
        table.add_row(str(r.length), str(r.windows), str(r.tokens_scored), f"{r.mean_nll:.4f}",
                      f"{r.perplexity:.3f}", added, f"{r.seconds:.0f}")
    return table, segments


def perplexity(
    lengths: LengthsOpt = "2048,4096,8192",
    data: Annotated[
        list[str] | None, typer.Option("--data", help="Local text files/folders (default: QMSum test transcripts).")
    ] = None,
    windows: Annotated[str, typer.Option("--windows", help=(
        "documents: windows drawn from single documents across the whole stream (seeded, never spanning "
        "two documents) | stream: LongLoRA's sliding windows over the documents joined by EOS."
    ))] = "documents",
    stride: Annotated[int, typer.Option("--stride", help="--windows stream: tokens between window starts.")] = 256,
    max_windows: Annotated[int | None, typer.Option(
        "--max-windows", help="At most this many windows (--windows documents: this many, default 8).")] = None,
    seed: Annotated[int, typer.Option("--seed", help="--windows documents: seed of the drawn windows.")] = 0,
    model: ModelOpt = None,
    adapter: AdapterOpt = None,
    rope_factor: RopeOpt = None,
    dtype: DtypeOpt = "bfloat16",
    threads: ThreadsOpt = None,
    out: OutOpt = None,
) -> None:
    """Perplexity at several lengths: windows from single documents (default) or LongLoRA's sliding windows."""
    from rich.console import Console

    from adactx.errors import AdactxError

    wanted = _lengths(lengths)
    if windows not in ("documents", "stream"):
        raise AdactxError(f"--windows {windows}: give documents or stream")
    if stride < 1 or (max_windows is not None and max_windows < 1):
        raise AdactxError(f"--stride {stride} / --max-windows {max_windows}: must be >= 1")
    if not data:
        from adactx.data.paths import data_file

        data = [str(data_file("qmsum", "ALL", "jsonl", "test.jsonl"))]
    reader = _load(model, adapter, rope_factor, dtype, threads)
    console = Console(stderr=True)
    try:
        if windows == "documents":
            results, how = _document_results(reader, data, wanted, max_windows or 8, seed, console)
        else:
            results, how = _stream_results(reader, data, wanted, stride, max_windows, console)
    except ValueError as exc:
        raise AdactxError(str(exc)) from None
    settings = {**_settings(reader, model, adapter), "data": data, **how}
    table, segments = _perplexity_table(reader, results, settings["rope_factor"])
    Console().print(table)
    rows = [{**r.to_dict(), "added_tokens_nll": segments.get(r.length)} for r in results]
    _save(out, {"settings": settings, "results": rows})


def passkey(
    lengths: LengthsOpt = "1000,2000,4000",
    trials: Annotated[int, typer.Option("--trials", help="Prompts per length (seeds seed..seed+trials-1).")] = 5,
    seed: Annotated[int, typer.Option("--seed", help="First seed (key and depth as LongLoRA draws them).")] = 0,
    model: ModelOpt = None,
    adapter: AdapterOpt = None,
    rope_factor: RopeOpt = None,
    dtype: DtypeOpt = "bfloat16",
    threads: ThreadsOpt = None,
    out: OutOpt = None,
) -> None:
    """Passkey retrieval accuracy at several lengths (LongLoRA's protocol, greedy exact match)."""
    from dataclasses import asdict

    from rich.console import Console
    from rich.table import Table

    from adactx.errors import AdactxError
    from adactx.kernels.evaluate import passkey_accuracy

    wanted = _lengths(lengths)
    if trials < 1:
        raise AdactxError(f"--trials {trials}: must be >= 1")
    reader = _load(model, adapter, rope_factor, dtype, threads)
    console = Console(stderr=True)
    results, done = passkey_accuracy(
        reader.model, reader.tokenizer, wanted, trials, seed,
        on_trial=lambda t: console.print(
            f"{t.length} tokens seed {t.seed} depth {t.depth:.2f}: key {t.key} -> {t.predicted!r} "
            f"{'ok' if t.correct else 'wrong'}"
        ),
    )
    table = Table(title=f"passkey ({reader.name}, rope x{_settings(reader, model, adapter)['rope_factor']:g})")
    for column in ("length", "trials", "correct", "accuracy", "seconds"):
        table.add_column(column, justify="right")
    for r in results:
        table.add_row(str(r.length), str(r.trials), str(r.correct), f"{r.accuracy:.2f}", f"{r.seconds:.0f}")
    Console().print(table)
    settings = {**_settings(reader, model, adapter), "trials": trials, "seed": seed}
    _save(out, {"settings": settings, "results": [r.to_dict() for r in results], "trials": [asdict(t) for t in done]})
