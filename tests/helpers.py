"""Tiny models built in code for unit tests: no downloads, a few ms to build.

    tok = tiny_tokenizer()             # byte-level BPE trained on a few sentences, with a chat template
    model = tiny_llama(vocab_size=len(tok))
    reader = tiny_reader()             # adactx HFReader over both
"""

from __future__ import annotations

import multiprocessing
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]  # the repository

CORPUS = [
    "The meeting discussed the budget, the schedule and the new design of the remote control.",
    "Question: who chairs the meeting? Answer: the project manager chairs it.",
    "The secret passkey is 71432. Remember it. The grass is green. The sky is blue.",
    "Paul Graham writes essays about startups, programming and how to do great work.",
    "Summaries condense long documents into a few sentences that keep what matters.",
]
CHAT_TEMPLATE = (
    "{% for message in messages %}<|im_start|>{{ message['role'] }}\n{{ message['content'] }}<|im_end|>\n"
    "{% endfor %}{% if add_generation_prompt %}<|im_start|>assistant\n{% endif %}"
)


@lru_cache(maxsize=1)
def tiny_tokenizer():
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import PreTrainedTokenizerFast

    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400,
        special_tokens=["<|endoftext|>", "<|im_start|>", "<|im_end|>"],
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
    )
    tok.train_from_iterator(CORPUS * 4, trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, eos_token="<|im_end|>", bos_token="<|endoftext|>", pad_token="<|endoftext|>"
    )
    fast.chat_template = CHAT_TEMPLATE
    return fast


def tiny_llama(vocab_size: int | None = None, seed: int = 0, **overrides):
    import torch
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = dict(
        vocab_size=vocab_size or len(tiny_tokenizer()),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=512,
        tie_word_embeddings=True,
    )
    cfg.update(overrides)
    torch.manual_seed(seed)
    return LlamaForCausalLM(LlamaConfig(**cfg)).eval()


def tiny_reader(max_context: int = 512, seed: int = 0, **overrides):
    """``overrides`` go to the model config; ``initializer_range=0.2`` makes a model that answers with
    varied tokens (the default one repeats a whitespace token, so its answers decode to "")."""
    from adactx.reader import HFReader

    tok = tiny_tokenizer()
    model = tiny_llama(len(tok), seed=seed, max_position_embeddings=max_context, **overrides)
    return HFReader(model, tok, name="tiny")


def write_marker(path: str) -> str:
    """A harmless stand-in for ``os.system`` in crafted checkpoints: proves a loader called it."""
    Path(path).write_text("called")
    return "called"


def save_tiny_model(path: Path, max_context: int = 1024, **overrides) -> Path:
    """A tiny model directory that ``load_reader(path)`` (and `--model path`) loads in milliseconds."""
    tok = tiny_tokenizer()
    tiny_llama(len(tok), max_position_embeddings=max_context, **overrides).save_pretrained(path)
    tok.save_pretrained(path)
    return path


def run_cli(capsys, *args) -> tuple[int, str, str]:
    """`adactx ARGS` in-process: (exit code, stdout, stderr)."""
    import pytest

    from adactx.cli import main

    with pytest.raises(SystemExit) as exit_info:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exit_info.value.code or 0, out.out, out.err


def one_error_line(code: int, out: str, err: str) -> str:
    """The CLI's single `error: ...` line (asserting exit 2 and no traceback)."""
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert code == 2, (code, out, err)
    assert len(lines) == 1 and lines[0].startswith("error:"), err
    assert "Traceback" not in err + out
    return lines[0]


def start_python(code: str, cwd: Path | None = None, **env):
    """``python -c code`` in a child process that can import these helpers (for kill -9 tests)."""
    import os
    import subprocess
    import sys

    tests = Path(__file__).parent
    child_env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(tests), str(tests / "rl")]),
                 "OMP_NUM_THREADS": "1", **{k: str(v) for k, v in env.items()}}
    return subprocess.Popen([sys.executable, "-c", code], cwd=cwd, env=child_env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def wait_for(predicate, timeout: float = 120.0, poll: float = 0.05) -> None:
    import time

    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError("condition not reached")
        time.sleep(poll)


class CrashOnce:
    """A policy that retrieves ``retrieves`` chunks one at a time, then answers, and raises on its second
    decision while ``armed`` (a crash mid-session; disarm it and resume)."""

    name, needs_draft = "crash-once", False

    def __init__(self, retrieves: int = 1):
        self.retrieves, self.armed, self.calls = retrieves, True, 0

    def reset(self):
        pass

    def act(self, obs):
        from adactx.graphs.state import Action

        self.calls += 1
        if self.calls == 2 and self.armed:
            raise RuntimeError("simulated crash")
        return Action("retrieve", 1) if obs.steps_taken < self.retrieves else Action("answer")


def open_at_once(open_fn, paths: list[str], procs: int) -> list[str]:
    """For each path, ``procs`` forked processes call ``open_fn(path)`` at the same moment: "ok" or the
    repr of what each raised (a race between processes creating one new SQLite file)."""
    ctx = multiprocessing.get_context("fork")
    outcomes = []
    for path in paths:
        barrier, results = ctx.Barrier(procs), ctx.Queue()

        def run(path=path, barrier=barrier, results=results):
            barrier.wait()
            try:
                open_fn(path)
                results.put("ok")
            except Exception as exc:  # noqa: BLE001 -- the caller asserts on it
                results.put(repr(exc))

        workers = [ctx.Process(target=run) for _ in range(procs)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()
        outcomes += [results.get() for _ in workers]
    return outcomes
