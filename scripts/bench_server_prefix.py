"""Benchmark: prompt tokens an OpenAI-compatible server computes with prefix reuse vs without.

    .venv/bin/python scripts/bench_server_prefix.py [--meeting 0] [--query 0] [--budget 4096]

Starts a real llama.cpp server (``llama-cpp-python[server]``, the bundled SmolLM2 GGUF) on 127.0.0.1,
then runs the 5-step episode of ``scripts/bench_kv_reuse.py`` (retrieve, extend, refine, retrieve,
answer, with a confidence draft after each expansion) on a QMSum val meeting through the HTTP reader
(``--reader openai``), twice:

  with reuse      requests as the reader sends them (``cache_prompt: true``): consecutive prompts share
                  head + chunks, so the server's prefix cache computes only the new chunk and the tail;
  without reuse   ``cache_prompt: false`` and, because llama-cpp-python ignores that field, a 1-token
                  unrelated request before each real one, which empties the server's one-slot cache: the
                  server computes every prompt in full, as a server without a prefix cache does.

Figures are the server's own: its log says, per completion, how many prompt tokens it evaluated
(``prefix-match hit, remaining N``, or the whole prompt after a reset), beside the reader's accounting (``session.usage``) and the prompts' ``usage.prompt_tokens``.
Prints both totals and their ratio; the answers of both runs must be identical (greedy).
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "scripts"))
sys.path.insert(0, str(ROOT / "tests"))

from bench_kv_reuse import Scripted
from llama_server import llama_server, prompt_evals


def make_reader(cfg, flush: bool):
    """An HTTP reader that logs (prompt tokens, real request?) per completion; with ``flush`` it first
    sends a 1-token unrelated request, which empties the server's one-slot prefix cache."""
    from adactx.http_reader import OpenAIReader

    class BenchReader(OpenAIReader):
        prompt_log: list[tuple[int, bool]]

        def complete(self, prompt: str, max_new_tokens: int) -> dict:
            if flush:
                body = {"model": self.cfg.model, "prompt": "x", "max_tokens": 1, "temperature": 0.0}
                out = self.client.request("POST", self.client.url("/completions"), body)
                self.prompt_log.append((out["usage"]["prompt_tokens"], False))
                self.last_prompt_ids = []  # the reader's own model of the cache: emptied too
            out = super().complete(prompt, max_new_tokens)
            self.prompt_log.append((out["usage"]["prompt_tokens"], True))
            return out

    reader = BenchReader(cfg)
    reader.prompt_log = []
    return reader


def run_episode(server, reader, example, budget: int, db: Path, chunk_tokens: int = 256) -> dict:
    from adactx.api import ContextManager

    cm = ContextManager(reader=reader, policy=Scripted(), budget=budget, max_steps=8, index_kind="bm25",
                        chunk_tokens=chunk_tokens, db=db, settings={"answer_tokens": 32, "draft_tokens": 8})
    doc = cm.add_document(example.document)
    mark = server.log_size()
    t0 = time.perf_counter()
    result = cm.ask(example.query, doc)
    wall = time.perf_counter() - t0
    prompts = reader.prompt_log  # every completion this reader sent, flushes included
    counts = prompt_evals(server.log_since(mark), [n for n, _ in prompts])
    return {
        "result": result,
        "wall": wall,
        "server_computed": sum(c for c, (_, real) in zip(counts, prompts) if real),
        "requests": reader.server_usage["requests"],
        "prompt_tokens": reader.server_usage["prompt_tokens"],
        "reader_computed": reader.server_usage["prompt_computed"],
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--meeting", type=int, default=0, help="QMSum val meeting index")
    ap.add_argument("--query", type=int, default=0, help="specific query index within the meeting")
    ap.add_argument("--budget", type=int, default=4096, help="most document tokens read")
    ap.add_argument("--chunk-tokens", type=int, default=256, help="tokens per chunk")
    ap.add_argument("--threads", type=int, default=1, help="server threads (1: see tests/llama_server.py)")
    args = ap.parse_args()

    from adactx.data.registry import load
    from adactx.http_reader import HTTPReaderConfig

    examples = [e for e in load("qmsum:val") if e.meta.get("query_type") == "specific"]
    by_meeting: dict[str, list] = {}
    for e in examples:
        by_meeting.setdefault(e.document.doc_id, []).append(e)
    example = list(by_meeting.values())[args.meeting][args.query]

    with tempfile.TemporaryDirectory() as tmp, llama_server(Path(tmp) / "server.log", n_ctx=8192,
                                                            n_threads=args.threads) as server:
        base = {"base_url": server.base_url, "model": server.model, "max_context": 8192}
        with_reuse = run_episode(server, make_reader(HTTPReaderConfig(**base), flush=False), example,
                                 args.budget, Path(tmp) / "a.sqlite", args.chunk_tokens)
        without = run_episode(server, make_reader(HTTPReaderConfig(**base, cache_prompt=False), flush=True),
                              example, args.budget, Path(tmp) / "b.sqlite", args.chunk_tokens)
    trace = with_reuse["result"].trace
    print(f"document: QMSum val {example.document.doc_id}; query: {example.query}")
    print("steps: " + " -> ".join(f"{s.action}({s.context_tokens})" for s in trace.steps))
    print()
    print(f"{'':26}{'requests':>9}{'prompt tokens':>15}{'server computed':>17}{'reader says':>13}{'seconds':>9}")
    for label, run in (("with prefix reuse", with_reuse), ("without (cache emptied)", without)):
        print(f"{label:26}{run['requests']:>9}{run['prompt_tokens']:>15}{run['server_computed']:>17}"
              f"{run['reader_computed']:>13}{run['wall']:>9.1f}")
    ratio = without["server_computed"] / max(with_reuse["server_computed"], 1)
    print()
    print(f"prefix reuse: the server computed {ratio:.2f}x fewer prompt tokens "
          f"({with_reuse['server_computed']} vs {without['server_computed']})")
    same = with_reuse["result"].answer == without["result"].answer
    print(f"answers identical: {same}; answer: {with_reuse['result'].answer!r}")


if __name__ == "__main__":
    main()
