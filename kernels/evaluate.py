"""LongLoRA's long-context evaluations: sliding-window perplexity and passkey retrieval.

    reader = load_longlora_reader(None, adapter, rope_factor=2.0)          # adactx.kernels.lora
    perplexity_at_lengths(reader.model, tokens, lengths=[8192, 16384], stride=256, max_windows=4)
    passkey_accuracy(reader.model, reader.tokenizer, lengths=[12288, 16384], trials=5, seed=0)

Perplexity follows LongLoRA's ``eval.py``: windows of L tokens start every ``stride`` tokens; each
window's loss averages every next-token prediction inside it; the result is exp(mean over windows).
Windows of different lengths that start at the same offset share their prefix, and a causal model's
prediction at position t depends only on tokens <= t, so one forward over the longest window yields
the loss of every shorter window at that offset exactly (:func:`perplexity_at_lengths` exploits it).
:func:`document_perplexity` draws its windows instead from single documents spread over the whole
stream (seeded; never the first offsets only, never across two documents; ``adactx eval perplexity``'s
default), one forward per window at the longest length.

Passkey follows ``passkey_retrivial.py`` through ``adactx.data.passkey``: LongLoRA's prompt, greedy
decoding of as many tokens as the answer has, exact match. Greedy decoding reproduces the answer iff
the argmax at every answer position, given the true answer prefix, is the true next token -- so one
teacher-forced forward over prompt + answer decides the trial exactly, without a KV-cache decode loop.
"""

from __future__ import annotations

import math
import time
from dataclasses import asdict, dataclass


@dataclass
class PerplexityResult:
    length: int
    windows: int
    tokens_scored: int
    mean_nll: float
    perplexity: float
    seconds: float  # wall time of the forwards this length used (shared with other lengths)

    def to_dict(self) -> dict:
        return asdict(self)


@dataclass
class PasskeyTrial:
    length: int
    seed: int
    depth: float
    prompt_tokens: int
    key: str
    predicted: str  # teacher-forced argmax at the answer positions
    correct: bool


@dataclass
class PasskeyResult:
    length: int
    trials: int
    correct: int
    accuracy: float
    seconds: float

    def to_dict(self) -> dict:
        return asdict(self)


def _inference_mode():
    import torch

    return torch.inference_mode()


def causal_lm_parts(model):
    """(decoder, lm_head) of a causal LM (plain or PEFT-wrapped)."""
    base = model.get_base_model() if hasattr(model, "get_base_model") else model
    return base.model, base.get_output_embeddings()


def window_token_nll(model, input_ids):
    """Per-token next-token NLL of one window: (B, T) ids -> (B, T-1) float32."""
    from adactx.kernels.loss import token_nll

    decoder, head = causal_lm_parts(model)
    with _inference_mode():
        hidden = decoder(input_ids=input_ids, use_cache=False).last_hidden_state
        return token_nll(hidden, head, input_ids)


def window_offsets(n_tokens: int, length: int, stride: int, max_windows: int | None) -> list[int]:
    offsets = list(range(0, n_tokens - length + 1, stride))
    return offsets[:max_windows] if max_windows else offsets


def perplexity_at_lengths(
    model, tokens, lengths: list[int], stride: int = 256, max_windows: int | None = None, on_window=None
) -> list[PerplexityResult]:
    """Sliding-window perplexity at each length over one token stream (list or 1-D tensor)."""
    import torch

    tokens = torch.as_tensor(tokens, dtype=torch.long)
    device = next(model.parameters()).device
    plan = {L: window_offsets(len(tokens), L, stride, max_windows) for L in sorted(set(lengths))}
    for L, offsets in plan.items():
        if not offsets:
            raise ValueError(f"perplexity: the text has {len(tokens)} tokens, fewer than the length {L}")
    sums = {L: [] for L in plan}
    seconds = {L: 0.0 for L in plan}
    for offset in sorted({o for offsets in plan.values() for o in offsets}):
        wanted = [L for L, offsets in plan.items() if offset in offsets]
        longest = max(wanted)
        start = time.perf_counter()
        nll = window_token_nll(model, tokens[offset : offset + longest][None].to(device))[0]
        spent = time.perf_counter() - start
        for L in wanted:
            sums[L].append(float(nll[: L - 1].double().mean()))
            seconds[L] += spent  # a forward shared by several lengths counts fully for each
        if on_window is not None:
            on_window(offset, longest)
    results = []
    for L in sorted(plan):
        mean = sum(sums[L]) / len(sums[L])
        results.append(PerplexityResult(L, len(sums[L]), len(sums[L]) * (L - 1), mean, math.exp(mean), seconds[L]))
    return results


def segment_nll(shorter: PerplexityResult, longer: PerplexityResult) -> float:
    """Mean NLL of the tokens a longer window adds beyond a shorter one at the same offsets.

    Exact when both used the same windows (same offsets, e.g. ``max_windows`` reached by both): the
    longer window's token sum minus the shorter one's, over the extra tokens.
    """
    extra = longer.tokens_scored - shorter.tokens_scored
    return (longer.mean_nll * longer.tokens_scored - shorter.mean_nll * shorter.tokens_scored) / extra


def passkey_trial(model, tokenizer, example) -> PasskeyTrial:
    """One LongLoRA passkey prompt, decided by one teacher-forced forward (see module docstring)."""

    from adactx.data.passkey import passkey_prompt

    prompt_ids = tokenizer(passkey_prompt(example))["input_ids"]
    key = example.references[0]
    answer_ids = tokenizer.encode(" " + key, add_special_tokens=False)
    predicted, correct = greedy_match(model, prompt_ids, answer_ids)
    return PasskeyTrial(
        length=int(example.meta.get("n_tokens", len(prompt_ids))),
        seed=int(example.meta.get("seed", 0)),
        depth=float(example.meta.get("depth", float("nan"))),
        prompt_tokens=len(prompt_ids),
        key=key,
        predicted=tokenizer.decode(predicted).strip(),
        correct=correct,
    )


def greedy_match(model, prompt_ids: list[int], answer_ids: list[int]) -> tuple[list[int], bool]:
    """Would greedy decoding after ``prompt_ids`` emit exactly ``answer_ids``? One forward decides it.

    Returns the argmax token at each answer position (given the true answer prefix) and the verdict.
    """
    import torch

    device = next(model.parameters()).device
    ids = torch.tensor([prompt_ids + answer_ids], dtype=torch.long, device=device)
    decoder, head = causal_lm_parts(model)
    n = len(answer_ids)
    with _inference_mode():
        hidden = decoder(input_ids=ids, use_cache=False).last_hidden_state
        predicted = head(hidden[:, -n - 1 : -1]).argmax(-1)[0].tolist()  # the positions that emit the answer
    return predicted, predicted == list(answer_ids)


def passkey_accuracy(
    model, tokenizer, lengths: list[int], trials: int = 5, seed: int = 0, on_trial=None
) -> tuple[list[PasskeyResult], list[PasskeyTrial]]:
    """``trials`` prompts per length (seeds ``seed .. seed+trials-1``, random depth as in LongLoRA)."""
    from adactx.data.passkey import passkey_example

    results, all_trials = [], []
    for length in lengths:
        start = time.perf_counter()
        done = []
        for i in range(trials):
            trial = passkey_trial(model, tokenizer, passkey_example(length, tokenizer, seed=seed + i))
            done.append(trial)
            if on_trial is not None:
                on_trial(trial)
        n_correct = sum(t.correct for t in done)
        results.append(PasskeyResult(length, trials, n_correct, n_correct / trials, time.perf_counter() - start))
        all_trials.extend(done)
    return results, all_trials


def eval_tokens(paths: list[str], tokenizer, max_tokens: int):
    """The evaluation token stream: texts from local files joined by EOS, cut at ``max_tokens``."""
    from adactx.kernels.train import read_texts

    eos = tokenizer.eos_token_id if tokenizer.eos_token_id is not None else 0
    tokens: list[int] = []
    for text in read_texts(paths):
        tokens.extend(tokenizer.encode(text, add_special_tokens=False))
        tokens.append(eos)
        if len(tokens) >= max_tokens:
            break
    return tokens[:max_tokens]


def eval_documents(paths: list[str], tokenizer) -> list[list[int]]:
    """Each document of the local files (a record of a .jsonl/.json, or a text file) as its own token list."""
    from adactx.kernels.train import read_texts

    return [tokenizer.encode(text, add_special_tokens=False) for text in read_texts(paths)]


def document_windows(doc_lengths: list[int], length: int, n_windows: int, seed: int = 0) -> list[tuple[int, int]]:
    """``(document, offset)`` of ``n_windows`` windows of ``length`` tokens, each inside one document.

    The documents long enough are split, in stream order, into ``n_windows`` equal strata; each window
    takes a seeded random document of its stratum and a uniform random offset inside it, so windows
    cover the whole stream (not its first offsets) and never span two documents. With more windows
    than long documents, documents repeat at different offsets.
    """
    import random

    eligible = [i for i, n in enumerate(doc_lengths) if n >= length]
    if not eligible:
        raise ValueError(f"perplexity: no document has {length} tokens (longest {max(doc_lengths, default=0)})")
    rng = random.Random(seed)
    windows = []
    for k in range(n_windows):
        lo = k * len(eligible) // n_windows
        hi = max(lo + 1, (k + 1) * len(eligible) // n_windows)
        doc = eligible[rng.randrange(lo, hi)]
        windows.append((doc, rng.randint(0, doc_lengths[doc] - length)))
    return windows


def document_perplexity(
    model, documents: list[list[int]], lengths: list[int], n_windows: int, seed: int = 0, on_window=None
) -> tuple[list[PerplexityResult], list[tuple[int, int]]]:
    """Perplexity at each length on windows drawn from single documents (:func:`document_windows`).

    The windows are drawn for the longest length; a shorter length scores the prefix of the same
    windows (exact for a causal model), so one forward per window serves every length.
    """
    import torch

    lengths = sorted(set(lengths))
    windows = document_windows([len(d) for d in documents], lengths[-1], n_windows, seed)
    device = next(model.parameters()).device
    sums: dict[int, list[float]] = {L: [] for L in lengths}
    spent = 0.0
    for doc, offset in windows:
        ids = torch.as_tensor(documents[doc][offset : offset + lengths[-1]], dtype=torch.long)
        start = time.perf_counter()
        nll = window_token_nll(model, ids[None].to(device))[0]
        spent += time.perf_counter() - start
        for L in lengths:
            sums[L].append(float(nll[: L - 1].double().mean()))
        if on_window is not None:
            on_window(doc, offset, lengths[-1])
    results = []
    for L in lengths:
        mean = sum(sums[L]) / len(sums[L])
        results.append(PerplexityResult(L, len(sums[L]), len(sums[L]) * (L - 1), mean, math.exp(mean), spent))
    return results, windows
