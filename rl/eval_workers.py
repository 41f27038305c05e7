"""`adactx eval --workers N`: N processes over one evaluation's examples, one run directory, one memo.

    par = Parallelism(workers=2, reader_spec=ReaderSpec())       # each worker loads this reader itself
    summary = run_eval(cfg, "runs/mixed-val", parallel=par)      # the same tables as one process

The parent process checks the run directory, loads the examples and puts the indices of those still
missing records on a queue; each worker (a ``spawn``-ed process: no state forked from torch) builds its
own reader from the spec, opens the run directory and the memo, and takes the next example whenever it
finishes one, so long and short documents balance out. What the workers share:

- the memo (``adactx.rl.memo.OutcomeMemo``: SQLite in WAL mode, one commit per outcome), so an outcome one
  worker computed is a hit for the others;
- ``records.jsonl``, each record appended under the run's lock file (``safe_io.append_record``);
- the memo lookup journal (one byte appended per lookup) and the index cache (atomic renames).

Examples travel to the workers as plain dicts (``Example.to_dict``). A worker that fails stops the run
with its one-line error; the records it and the others finished stay, and a rerun resumes.
``--shard i/N`` (``adactx.rl.shards``) is the same split for schedulers that start the processes themselves.
"""

from __future__ import annotations

import multiprocessing
import os
import queue
from dataclasses import asdict, dataclass, field
from pathlib import Path

from adactx.rl.eval_config import EvalConfig
from adactx.rl.eval_harness import MemoCounters, build_harness, needed_labels, run_example
from adactx.rl.run_dir import RunDir
from adactx.rl.shards import Shard

from adactx.errors import AdactxError
from adactx.threads import DEFAULT_THREADS

MAX_WORKERS = 256


@dataclass
class Parallelism:
    """How an evaluation spreads over processes; the default is one process, every example."""

    workers: int = field(default=1, metadata={"help": "processes over the examples (each loads the reader)"})
    shard: Shard | None = field(
        default=None, metadata={"help": "only this share of the examples (--shard i/N)"}
    )
    reader_spec: object | None = field(
        default=None, metadata={"help": "the reader each process builds (adactx.reader_spec.ReaderSpec)"}
    )
    threads: int = field(default=DEFAULT_THREADS, metadata={"help": "torch threads in each worker"})

    def __post_init__(self) -> None:
        if not 1 <= self.workers <= MAX_WORKERS:
            raise AdactxError(f"--workers {self.workers}: use 1 to {MAX_WORKERS} processes")

    def check(self, reader, encoder) -> None:
        """Workers build their own reader and encoder: objects made in this process cannot be shared."""
        if self.workers == 1:
            return
        if reader is not None or self.reader_spec is None:
            raise AdactxError(
                "--workers: each worker loads its own reader; pass a ReaderSpec, not a reader object"
            )
        if encoder is not None:
            raise AdactxError(
                "--workers: each worker loads the encoder EvalConfig.encoder names; pass no encoder object"
            )

    def server_reader(self):
        """The client of the server the spec names (no model to load here), else None."""
        from adactx.reader_spec import make_reader

        spec = self.reader_spec
        return make_reader(spec) if spec is not None and spec.kind != "hf" else None

    def parent_reader(self, cfg: EvalConfig):
        """The local reader this process uses: its own (one worker), or none (workers load theirs)."""
        from adactx.reader import load_reader
        from adactx.reader_spec import make_reader

        if self.reader_spec is None:
            return load_reader(cfg.model, adapter=cfg.adapter)
        if self.workers > 1:
            return None  # each worker loads the model; this process needs only its tokenizer
        return make_reader(self.reader_spec)

    def tokenizer(self, reader):
        from adactx.reader import load_tokenizer

        return reader.tokenizer if reader is not None else load_tokenizer(self.reader_spec.model)


def run_workers(cfg: EvalConfig, run: RunDir, examples: list, par: Parallelism, memo_path, progress=None):
    """Run the examples still missing records in ``par.workers`` processes; returns their ``MemoCounters``."""
    from adactx.rl.memo import OutcomeMemo

    from adactx.reader import cache_dir

    memo_path = str(memo_path or cache_dir() / "memo.sqlite")
    pending = [
        ex for ex in examples if any((ex.example_id, lb) not in run.done for lb in needed_labels(cfg, ex))
    ]
    job = {
        "cfg": cfg.to_dict(),
        "out": str(run.path),
        "spec": asdict(par.reader_spec),
        "memo_path": memo_path,
        "threads": par.threads,
        "examples": [ex.to_dict() for ex in pending],
    }
    tracker = _Progress(progress, examples, pending)
    counters = _run_pool(job, min(par.workers, len(pending)), tracker) if pending else MemoCounters()
    memo = OutcomeMemo(memo_path)
    counters.entries = len(memo)
    memo.close()
    return counters


@dataclass
class _Progress:
    """The parent's progress callback: examples already done count at once, the rest as workers finish."""

    callback: object
    examples: list
    pending: list
    finished: int = 0
    per_worker: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.finished = len(self.examples) - len(self.pending)

    def done(self, worker: int, example_id: str, hits: int, misses: int) -> None:
        self.finished += 1
        self.per_worker[worker] = (hits, misses)
        if self.callback:
            hits = sum(h for h, _ in self.per_worker.values())
            lookups = hits + sum(m for _, m in self.per_worker.values())
            stats = {"hits": hits, "hit_rate": hits / lookups if lookups else 0.0}
            self.callback(self.finished, len(self.examples), example_id, stats)


def _run_pool(job: dict, workers: int, tracker: _Progress) -> MemoCounters:
    ctx = multiprocessing.get_context("spawn")  # a fresh interpreter: nothing inherited from torch's threads
    tasks, results = ctx.Queue(), ctx.Queue()
    for index in range(len(job["examples"])):
        tasks.put(index)
    for _ in range(workers):
        tasks.put(None)  # one stop sign per worker
    procs = [
        ctx.Process(target=worker_main, args=(job, w, tasks, results), daemon=True) for w in range(workers)
    ]
    for proc in procs:
        proc.start()
    try:
        return _collect(procs, results, tracker)
    finally:
        for proc in procs:
            if proc.is_alive():
                proc.terminate()
            proc.join()


def _collect(procs: list, results, tracker: _Progress) -> MemoCounters:
    """Read the workers' messages until each has exited; a failed or killed worker stops the run."""
    counters, exited = MemoCounters(), 0
    while exited < len(procs):
        try:
            message = results.get(timeout=1.0)
        except queue.Empty:
            dead = [p for p in procs if p.exitcode not in (None, 0)]
            if dead:
                raise AdactxError(
                    f"eval worker (pid {dead[0].pid}) died with exit code {dead[0].exitcode}; "
                    "the records finished so far are kept: rerun the same command to resume"
                ) from None
            continue
        kind, worker, payload = message
        if kind == "done":
            tracker.done(worker, *payload)
        elif kind == "error":
            raise AdactxError(f"eval worker {worker}: {payload}")
        else:  # "exit": the worker's totals
            counters.hits += payload["hits"]
            counters.misses += payload["misses"]
            counters.model_seconds += payload["model_seconds"]
            counters.processes.append({"pid": payload["pid"], "examples": payload["examples"]})
            exited += 1
    return counters


def worker_main(job: dict, worker: int, tasks, results) -> None:
    """One worker process: run examples from ``tasks`` until its stop sign, report to ``results``."""
    try:
        results.put(("exit", worker, _work(job, worker, tasks, results)))
    except Exception as exc:  # noqa: BLE001 -- any failure is told to the parent, which stops the run
        message = str(exc) if isinstance(exc, AdactxError) else f"{type(exc).__name__}: {exc}"
        results.put(("error", worker, message))


def _work(job: dict, worker: int, tasks, results) -> dict:
    from adactx.reader_spec import ReaderSpec, make_reader
    from adactx.threads import set_threads
    from adactx.types import Example

    set_threads(job["threads"])
    cfg = EvalConfig.from_dict(job["cfg"])
    run = RunDir(Path(job["out"]), cfg)
    h = build_harness(cfg, run, make_reader(ReaderSpec(**job["spec"])), None, job["memo_path"])
    done, parent = 0, multiprocessing.parent_process()
    while (index := next_task(tasks, parent)) is not None:
        example = Example.from_dict(job["examples"][index])
        run_example(h, cfg, example)
        done += 1
        results.put(("done", worker, (example.example_id, h.memo.hits, h.memo.misses)))
    seconds = h.memo_reader.model_seconds
    return {
        "hits": h.memo.hits,
        "misses": h.memo.misses,
        "model_seconds": seconds,
        "pid": os.getpid(),
        "examples": done,
    }


def next_task(tasks, parent) -> int | None:
    """The next example's index from ``tasks``; None at the stop sign, or once ``parent`` (the process that
    collects the results) has gone: a parent killed with SIGTERM or SIGKILL cannot stop its workers, and
    workers left running would race a rerun over the same examples (records written twice, the CPU
    shared with nobody's work)."""
    while parent is None or parent.is_alive():
        try:
            return tasks.get(timeout=1.0)
        except queue.Empty:
            continue
    return None


__all__ = ["MemoCounters", "Parallelism", "next_task", "run_workers"]
