"""`adactx ask`, `adactx summarize`, `adactx trace list|show|resume`: sessions over one document."""

from __future__ import annotations

import json
from pathlib import Path

import typer

from adactx.cli import reader_options as ro
from adactx.cli.live import LiveAnswer
from adactx.cli.options import option
from adactx.config import DEFAULT_ENCODER, DEFAULT_POLICY, ControllerSettings, DocumentSettings
from adactx.errors import AdactxError
from adactx.limits import DOCUMENT_BYTES_ENV, LIMITS_HELP, InputLimits
from adactx.threads import DEFAULT_THREADS, THREADS_HELP

POLICY_OPT = typer.Option(
    DEFAULT_POLICY,
    "--policy",
    "-p",
    help="How to grow the context: full | first-L | topk-K | refine-K | threshold[-TAU] | rag-full[-kK] | learned:DIR.",
)
BUDGET_OPT = option(
    ControllerSettings, "budget", "--budget", "-b",
    help=f"Most document tokens the reader may read per question ({InputLimits.min_budget} to {InputLimits.max_budget:,}).",
)
DOC_HELP = (
    f"The document: .txt, .md, .jsonl or .pdf, at most {InputLimits.max_document_bytes / 1e6:g} MB "
    f"(${DOCUMENT_BYTES_ENV} raises it)."
)
MODEL_OPT = typer.Option(
    None, "--model", "-m", help="Local Hugging Face model directory (default: the bundled SmolLM2-135M-Instruct)."
)
DB_OPT = typer.Option(None, "--db", help="Session database (default: $ADACTX_CACHE/sessions.sqlite).")
INDEX_OPT = option(DocumentSettings, "index_kind", "--index", help="Retrieval: hybrid (dense + BM25) | dense | bm25.")
ENCODER_OPT = typer.Option(
    DEFAULT_ENCODER, "--encoder", help="Dense encoder: minilm | hashing | a local model directory."
)
CHUNK_OPT = option(
    DocumentSettings, "chunk_tokens", "--chunk-tokens", help="Most reader tokens per chunk (chunks hold whole sentences)."
)
SUMMARY_BUDGET = 8192  # `adactx summarize` reads the whole document in parts: a larger budget than `ask`'s
THREADS_OPT = typer.Option(DEFAULT_THREADS, "--threads", help=THREADS_HELP)

trace_app = typer.Typer(
    help="List, inspect and resume persisted sessions.", no_args_is_help=True, rich_markup_mode="markdown"
)


def register(app: typer.Typer) -> None:
    for command in (ask, summarize):
        command.__doc__ = f"{command.__doc__.rstrip()}\n\n    {LIMITS_HELP}\n"
    app.command("ask")(ask)
    app.command("summarize")(summarize)
    app.command("index")(index_document)
    app.add_typer(trace_app, name="trace")


def _console():
    from adactx.cli.render import console

    return console()


def _run(doc: Path, questions: list[str], task: str, policy: str, budget: int, max_steps: int | None,
         index_dir: Path | None = None, threads: int | None = None, **cm_options):
    import uuid

    from adactx.api import ContextManager, check_questions
    from adactx.threads import set_threads

    check_questions(questions)  # fail before minutes of loading, not after
    set_threads(threads)
    console = _console()
    cm = ContextManager(policy=policy, budget=budget, max_steps=max_steps, **cm_options)  # checks, loads nothing
    session_id = uuid.uuid4().hex[:10]
    # "run id" is what the CLI calls a session's id (`adactx trace list|show|resume RUN_ID`)
    console.print(f"run id: [bold]{session_id}[/]  (adactx trace show {session_id})", highlight=False)
    with console.status("loading reader, chunking and indexing the document…"):
        doc_id = cm.add(doc, index_dir=index_dir)

    def progress(i: int, n: int, question: str) -> None:
        console.print(f"[bold]{i + 1}/{n}[/] {question}", highlight=False)

    live = LiveAnswer(console)
    cm.ask_many(questions, doc_id, task=task, session_id=session_id, progress=progress,
                on_step=live.step, on_event=live.event, on_result=live.result)


def ask(
    doc: Path = typer.Argument(..., help=DOC_HELP),
    questions: list[str] = typer.Argument(
        ..., help=f"One or more questions (each up to {InputLimits.max_question_chars:,} characters), one session."
    ),
    policy: str = POLICY_OPT,
    budget: int = BUDGET_OPT,
    max_steps: int = option(ControllerSettings, "max_steps", help="Most controller steps per question."),
    query_summary: bool = typer.Option(False, "--summary-answer", help="Answer with a few sentences."),
    model: str = MODEL_OPT,
    adapter: str = ro.ADAPTER_OPT,
    index: str = INDEX_OPT,
    encoder: str = ENCODER_OPT,
    index_dir: Path = typer.Option(None, help="Use an index saved by `adactx index` instead of building one."),
    chunk_tokens: int = CHUNK_OPT,
    db: Path = DB_OPT,
    threads: int = THREADS_OPT,
    reader: str = ro.READER_OPT,
    base_url: str = ro.BASE_URL_OPT,
    tokenizer: str = ro.TOKENIZER_OPT,
    device: str = ro.DEVICE_OPT,
    dtype: str = ro.DTYPE_OPT,
) -> None:
    """Answer questions about a long document, growing the context step by step.

    The policy decides each step: retrieve the next-best chunks, extend the window around what was
    read, refine (keep only the best sentences of the next chunks), or answer. The budget and
    --max-steps always end the loop. Every step is saved: see `adactx trace show RUN_ID`.

    Example: `adactx ask meeting.txt "What did they decide about the buttons?" --policy topk-4`;
    over a server: `--reader openai --base-url http://127.0.0.1:8080/v1 --model NAME`.
    """
    task = "query_summary" if query_summary else "qa"
    spec = ro.spec(reader, base_url, model, tokenizer, device, dtype, adapter)
    _run(doc, questions, task, policy, budget, max_steps, index_dir=index_dir, threads=threads,
         model=model, index_kind=index, encoder=encoder, db=db, chunk_tokens=chunk_tokens, reader=spec)


def summarize(
    doc: Path = typer.Argument(..., help=DOC_HELP),
    instruction: str = typer.Option("Summarize the document.", help="What the summary should cover."),
    budget: int = typer.Option(
        SUMMARY_BUDGET, "--budget", "-b",
        help=f"Most document tokens read across all parts ({InputLimits.min_budget} to {InputLimits.max_budget:,}).",
    ),
    model: str = MODEL_OPT,
    db: Path = DB_OPT,
    threads: int = THREADS_OPT,
    reader: str = ro.READER_OPT,
    base_url: str = ro.BASE_URL_OPT,
    tokenizer: str = ro.TOKENIZER_OPT,
    device: str = ro.DEVICE_OPT,
    dtype: str = ro.DTYPE_OPT,
) -> None:
    """Summarize a long document hierarchically: summarize its parts, then the parts' summaries."""
    spec = ro.spec(reader, base_url, model, tokenizer, device, dtype)
    _run(doc, [instruction], "summary", "full", budget, None, threads=threads, model=model, index_kind="bm25",
         db=db, reader=spec)


def index_document(
    doc: Path = typer.Argument(..., help=DOC_HELP),
    out: Path = typer.Option(..., "--out", "-o", help="Directory to write the index to (no pickle)."),
    index: str = INDEX_OPT,
    encoder: str = ENCODER_OPT,
    chunk_tokens: int = CHUNK_OPT,
    model: str = MODEL_OPT,
) -> None:
    """Chunk and index a document once; reuse it with `adactx ask DOC Q --index-dir DIR`."""
    from adactx.api import ContextManager

    cm = ContextManager(model=model, index_kind=index, encoder=encoder, chunk_tokens=chunk_tokens)
    doc_id = cm.add(doc)
    path = cm.save_index(doc_id, out)
    tree = cm.chunk_tree(doc_id)
    _console().print(f"indexed {len(tree.chunks)} chunks ({tree.total_tokens} tokens) -> {path}")


def _saver(db: Path | None):
    from adactx.api import default_session_db
    from adactx.graphs.graph import open_checkpointer

    return open_checkpointer(db or default_session_db())


@trace_app.command("list")
def trace_list(db: Path = DB_OPT, json_out: bool = typer.Option(False, "--json", help="JSON lines.")) -> None:
    """List persisted sessions, newest first."""
    from adactx.cli.render import columns_table
    from adactx.graphs.graph import list_sessions

    rows = list_sessions(_saver(db))
    if json_out:
        for row in rows:
            typer.echo(json.dumps(row))
        return
    cells = [(r["session_id"], Path(str(r["doc"])).name, r["task"], r["policy"], f"{r['done']}/{r['questions']}",
              _short_time(r["updated"])) for r in rows]
    headers = ("run id", "document", "task", "policy", "done", "updated")
    table = columns_table(headers, cells, numeric={"done"}, whole={"run id", "updated"})
    _console().print(table if rows else "no sessions yet: run `adactx ask DOC QUESTION`")


def _short_time(stamp: str) -> str:
    """``2026-12-01T03:47:12.345+00:00`` -> ``2026-12-01 03:47`` (fits a narrow terminal)."""
    return stamp[:16].replace("T", " ")


@trace_app.command("show")
def trace_show(
    run_id: str = typer.Argument(..., help="A run id from `adactx trace list`."),
    db: Path = DB_OPT,
    json_out: bool = typer.Option(False, "--json", help="The whole trace as JSON."),
) -> None:
    """Show a session step by step: action, what was added, tokens, confidence."""
    from adactx.graphs.graph import load_session

    values = load_session(_saver(db), run_id)
    if json_out:
        typer.echo(json.dumps({k: values.get(k) for k in ("session_id", "doc_id", "doc_path", "policy", "task",
                                                          "questions", "results", "partial", "pending")}))
        return
    console = _console()
    console.print(f"run [bold]{run_id}[/]  policy {values['policy']}  task {values.get('task', 'qa')}", highlight=False)
    console.print(f"document {values.get('doc_path') or values['doc_id']}", highlight=False, markup=False)
    for trace in values.get("results", []):
        _print_steps(console, trace, done=True)
    if values.get("partial"):
        _print_steps(console, values["partial"], done=False)
    console.print(STEP_LEGEND, style="dim", highlight=False)


STEP_HEADERS = ("#", "action", "chunks added", "context", "computed", "reused", "gen", "conf", "secs")
STEP_LEGEND = (
    "context: document tokens in the reader's context after the step; computed / reused / gen: tokens "
    "the reader computed, took from its KV cache, generated; conf: mean log-prob of the draft or answer"
)


def _print_steps(console, trace: dict, done: bool) -> None:
    from adactx.cli.render import columns_table

    question = trace.get("question") or trace.get("query", "")  # `query`: saved before the rename
    title = question if done else f"{question}  [yellow](interrupted: `adactx trace resume`)[/]"
    rows = []
    for s in trace.get("steps", []):
        u = s["usage"]
        conf = "" if s.get("confidence") is None else f"{s['confidence']:+.2f}"
        added = ",".join(map(str, s["chunks_added"][:8])) + ("…" if len(s["chunks_added"]) > 8 else "")
        rows.append((s["index"] + 1, s["action"], added, s["context_tokens"], u["tokens_computed"],
                     u["tokens_reused"], u["tokens_generated"], conf, f"{s['latency_s']:.2f}"))
    numeric = set(STEP_HEADERS) - {"action", "chunks added"}
    console.print(columns_table(STEP_HEADERS, rows, numeric=numeric, whole={"action"}, title=title))
    if done:
        console.print(f"answer: {trace.get('answer', '')}", highlight=False, markup=False)


@trace_app.command("resume")
def trace_resume(
    run_id: str = typer.Argument(..., help="An interrupted run id."),
    doc: Path = typer.Option(None, help="The document, if it moved since the session started."),
    model: str = MODEL_OPT,
    index: str = INDEX_OPT,
    encoder: str = ENCODER_OPT,
    db: Path = DB_OPT,
    reader: str = ro.READER_OPT,
    base_url: str = ro.BASE_URL_OPT,
    tokenizer: str = ro.TOKENIZER_OPT,
    device: str = ro.DEVICE_OPT,
) -> None:
    """Finish an interrupted session from its last checkpoint (same document, model and index)."""
    from adactx.api import ContextManager

    console = _console()
    from adactx.graphs.graph import recorded_settings

    settings = recorded_settings(_saver(db), run_id)  # resume with the settings the session started with
    spec = ro.spec(reader, base_url, model, tokenizer, device)
    cm = ContextManager(model=model, db=db, index_kind=index, encoder=encoder, settings=settings, reader=spec)
    if doc is not None:
        cm.add(doc)
    live = LiveAnswer(console)
    results = cm.resume(run_id, on_step=live.step, on_event=live.event, on_result=live.result)
    if not results:
        raise AdactxError(f"run {run_id}: nothing to resume")
