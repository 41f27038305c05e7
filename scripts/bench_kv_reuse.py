"""Benchmark: KV-cache reuse in a multi-step controller episode, and reader load times.

    .venv/bin/python scripts/bench_kv_reuse.py [--meeting 0] [--query 0] [--threads 2]

Prints, measured side by side in one run on a real QMSum meeting with the offline reader:
  1. reader load: first load (GGUF -> bf16 safetensors, in a fresh cache) vs cached load (subprocesses);
  2. one >= 4-step episode (retrieve, extend, refine, retrieve, answer, with a confidence draft after each
     expansion) through the LangGraph controller with the SQLite checkpointer: reader tokens computed
     with KV reuse vs recomputing the whole context at every reader call (replayed for real), both
     against one read of the final context (target: reuse <= 1.15x one read);
  3. the share of the episode's wall time spent outside the reader (target: <= 5%).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
LOAD_SNIPPET = (  # imports happen before the clock starts: only loading (and converting) is timed
    "import time, json, torch, transformers; from transformers import AutoModelForCausalLM, AutoTokenizer; "
    "from adactx.reader import load_reader; t = time.perf_counter(); r = load_reader(); "
    "print(json.dumps({'seconds': time.perf_counter() - t}))"
)


def measure_load(cache: str) -> float:
    env = {**os.environ, "ADACTX_CACHE": cache}
    out = subprocess.run([sys.executable, "-c", LOAD_SNIPPET], env=env, capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])["seconds"]


class Scripted:
    """A fixed >= 4-step plan that exercises every expansion action, drafting after each."""

    name, needs_draft = "scripted", True
    PLAN = [("retrieve", 2), ("extend", 512), ("refine", 3), ("retrieve", 2)]

    def reset(self) -> None:
        pass

    def act(self, obs):
        from adactx.graphs.state import Action

        if obs.steps_taken < len(self.PLAN):
            name, amount = self.PLAN[obs.steps_taken]
            if obs.mask.get(name):
                return Action(name, amount)
        return Action("answer")


def replay_recompute(reader, query: str, contexts: list[list[int]], calls: list[tuple[int, int]]):
    """Recompute each reader call from scratch: a fresh session per call over that call's context."""
    computed, seconds = 0, 0.0
    for (n_context, n_new), ids in zip(calls, contexts):
        session = reader.session(query, "qa")
        t0 = time.perf_counter()
        session._append_ids(ids[len(session.context_ids) : n_context])
        session.generate(n_new)
        seconds += time.perf_counter() - t0
        computed += session.usage.tokens_computed
    return computed, seconds


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--meeting", type=int, default=0, help="QMSum val meeting index")
    ap.add_argument("--query", type=int, default=0, help="specific query index within the meeting")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--skip-load", action="store_true", help="skip the first-load vs cached-load timing")
    args = ap.parse_args()

    import torch

    torch.set_num_threads(args.threads)
    if not args.skip_load:
        with tempfile.TemporaryDirectory() as fresh:
            first = measure_load(fresh)
            cached = measure_load(fresh)
        print(f"reader load: first {first:.1f}s (convert GGUF), cached {cached:.2f}s -> {first / cached:.1f}x faster")


    from adactx.api import ContextManager
    from adactx.data.registry import load

    examples = [e for e in load("qmsum:val") if e.meta.get("query_type") == "specific"]
    by_meeting: dict[str, list] = {}
    for e in examples:
        by_meeting.setdefault(e.document.doc_id, []).append(e)
    example = list(by_meeting.values())[args.meeting][args.query]

    with tempfile.TemporaryDirectory() as tmp:
        cm = ContextManager(policy=Scripted(), budget=6144, max_steps=8, db=Path(tmp) / "s.sqlite",
                            settings={"answer_tokens": 32, "draft_tokens": 8})
        doc = cm.add_document(example.document)
        reader = cm.reader
        tree = cm.chunk_tree(doc)
        print(f"document: QMSum val {example.document.doc_id}, {tree.total_tokens} tokens, {len(tree.chunks)} chunks")
        print(f"query: {example.query}")
        # warm-up, untimed: one short episode on another query pays the one-time costs (lazy imports
        # of LangGraph/SQLite, the first MiniLM query, allocator growth) that no later episode pays
        cm.ask_many([examples[0].query if examples[0] is not example else examples[1].query], doc,
                    session_id="warmup")
        reader.seconds = 0.0
        t0 = time.perf_counter()
        result = cm.ask(example.query, doc)
        wall = time.perf_counter() - t0
        reader_seconds = reader.seconds
    trace = result.trace
    head = len(reader.encode(reader.prompt_parts(example.query, "qa")[0]))

    # every reader call (draft or answer) in the episode: (context tokens incl. head, tokens generated)
    calls = [(head + s.context_tokens, s.usage.tokens_generated) for s in trace.steps if s.usage.tokens_generated]
    final_ids = head + trace.context_tokens
    print("steps: " + " -> ".join(f"{s.action}({s.context_tokens})" for s in trace.steps))
    reuse_computed = trace.usage.tokens_computed

    # the exact context token ids of the episode (as the controller appended them), replayed uncached
    ids = reader.session(example.query, "qa").context_ids
    for piece in trace.pieces:
        ids = ids + reader.encode("\n" + example.document.text[piece["start"] : piece["end"]])
    one_read, one_read_s = replay_recompute(reader, example.query, [ids], [(final_ids, calls[-1][1])])
    recompute, recompute_s = replay_recompute(reader, example.query, [ids] * len(calls), calls)

    reader_share = reader_seconds / wall
    print()
    print(f"{'':38}{'tokens computed':>16}{'x one read':>12}{'seconds':>10}")
    print(f"{'one read of the final context':38}{one_read:>16}{1.0:>12.2f}{one_read_s:>10.1f}")
    print(f"{'episode with KV reuse':38}{reuse_computed:>16}{reuse_computed / one_read:>12.2f}{wall:>10.1f}")
    print(f"{'episode recomputing every call':38}{recompute:>16}{recompute / one_read:>12.2f}{recompute_s:>10.1f}")
    print()
    print(f"KV reuse computes {recompute / reuse_computed:.2f}x fewer tokens than recomputing "
          f"({len(calls)} reader calls); target <= 1.15x one read: {reuse_computed / one_read:.2f}x")
    print(f"wall time outside the reader: {(1 - reader_share):.1%} of {wall:.1f}s (target <= 5%)")
    print(f"answer: {result.answer!r}")


if __name__ == "__main__":
    main()
