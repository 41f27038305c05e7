"""A reader over any OpenAI-compatible server (llama.cpp, vLLM, Ollama, TGI) through ``/v1/completions``.

    reader = OpenAIReader(HTTPReaderConfig(base_url="http://127.0.0.1:8080/v1", model="smollm2"))
    session = reader.session("Who chairs the meeting?")
    session.append(chunk_text)          # recorded; nothing is sent yet
    draft = session.draft()             # one completion request: head + chunks + tail
    session.usage                       # from the server's `usage` (and what its prefix cache saved)

It implements what the controller calls on a reader (``encode``, ``count_tokens``, ``decode``, ``flops``,
``prompt_parts``, ``session``) and on a session (``append``, ``n_context``, ``room``, ``draft``,
``answer``, ``generate``, ``usage``), the same surface as :class:`adactx.reader.HFReader`.

**Prefix reuse.** Every request sends the raw prompt ``head + chunk_1 + ... + chunk_n + tail`` (the
append-only layout of ``adactx.reader``), so consecutive requests of a session share everything but
the tail: the server's own prefix cache (llama.cpp ``cache_prompt: true``, which this reader sends;
vLLM's automatic prefix caching) keeps that prefix's KV and computes only the new chunk and the tail.

**Accounting.** ``tokens_computed + tokens_reused`` of a request's prompt is the server's
``usage.prompt_tokens``; ``tokens_generated`` is ``usage.completion_tokens``. How many prompt tokens the
server really computed comes, in this order, from llama.cpp's ``timings.prompt_n``, from
``usage.prompt_tokens_details.cached_tokens`` (vLLM, OpenAI), or, where the server reports neither
(llama-cpp-python), from the longest token prefix shared with this reader's previous request: a server
with one prefix-cache slot (llama-cpp-python, llama.cpp with one slot) computes exactly the rest
(``tests/core/test_http_reader_server.py`` checks this against the server's own log).
``session.accounting`` says which source each request used. FLOPs are ``2 · n_params`` per computed
token when the parameter count is known (``n_params``, or llama.cpp's ``/v1/models`` meta), else 0.

**Confidence.** The draft asks for ``logprobs``; its confidence is the mean log-probability of the
returned tokens. A server that returns no logprobs gives ``mean_logprob = None``: the threshold and
rag-full policies then never see a confident draft, so they keep retrieving until the budget, the
window or ``max_steps`` ends the loop (they behave like top-k up to the budget); use a fixed policy
(``topk-K``, ``first-L``) with such a server to avoid paying for drafts.

**Tokens.** Counted with the server's tokenizer (llama.cpp ``/tokenize``, llama-cpp-python
``/extras/tokenize``, vLLM ``/tokenize``), else with a local Hugging Face tokenizer named by
``tokenizer``; with neither, the reader refuses to start. Token counts are cached per text.

**Failures.** Each request has a timeout; connection errors, timeouts and 5xx answers are retried
(``retries`` times, exponential backoff from ``backoff_s``); then an ``AdactxError`` names the URL.
A 4xx answer (bad model name, prompt too long) fails at once with the server's message.
"""

from __future__ import annotations

import math
import os
import time
from collections import OrderedDict
from dataclasses import dataclass, field

from adactx.config import require_positive
from adactx.errors import AdactxError
from adactx.reader import AppendOnlyContext, Generation, layout_prompt, split_chat_template
from adactx.types import Usage

DEFAULT_WINDOW = 2048  # when neither the config nor the server says how long the window is
_CACHE_ITEMS = 50_000  # remembered (text -> ids) pairs


@dataclass
class HTTPReaderConfig:
    """How to reach an OpenAI-compatible server and read with it."""

    base_url: str = field(metadata={"help": "server URL with its /v1, e.g. http://127.0.0.1:8080/v1"})
    model: str = field(metadata={"help": "the served model's name (the request's `model` field)"})
    tokenizer: str | None = field(
        default=None, metadata={"help": "local HF tokenizer directory; default: the server's /tokenize"}
    )
    api_key_env: str = field(
        default="OPENAI_API_KEY", metadata={"help": "environment variable holding the API key, if any"}
    )
    timeout_s: float = field(default=120.0, metadata={"help": "seconds before one request times out"})
    retries: int = field(default=3, metadata={"help": "retries of a failed request (connection, timeout, 5xx)"})
    backoff_s: float = field(default=0.5, metadata={"help": "first retry delay; doubles each retry"})
    max_context: int | None = field(
        default=None, metadata={"help": f"the model's window; default: the server's, else {DEFAULT_WINDOW}"}
    )
    n_params: int | None = field(default=None, metadata={"help": "parameter count for FLOPs (default: server's)"})
    cache_prompt: bool = field(default=True, metadata={"help": "ask llama.cpp to keep the prompt's KV"})
    logprobs: bool = field(default=True, metadata={"help": "ask for logprobs (the draft's confidence)"})
    extra_body: dict = field(
        default_factory=lambda: {"repeat_penalty": 1.0},
        metadata={"help": "extra request fields (llama.cpp's default repeat penalty 1.1 is turned off)"},
    )

    def __post_init__(self) -> None:
        if not self.base_url.startswith(("http://", "https://")):
            raise AdactxError(f"HTTPReaderConfig.base_url: need an http(s) URL, got {self.base_url!r}")
        if not self.model:
            raise AdactxError("HTTPReaderConfig.model: name the served model (--model NAME)")
        self.base_url = self.base_url.rstrip("/")
        if self.retries < 0:
            raise AdactxError(f"HTTPReaderConfig.retries: must be >= 0, got {self.retries}")
        if self.timeout_s <= 0:
            raise AdactxError(f"HTTPReaderConfig.timeout_s: must be > 0, got {self.timeout_s}")
        if self.backoff_s < 0:
            raise AdactxError(f"HTTPReaderConfig.backoff_s: must be >= 0, got {self.backoff_s}")
        if self.max_context is not None:
            require_positive(self, "max_context")


class ServerClient:
    """JSON over HTTP with a timeout, bounded retries with backoff, and errors that name the URL."""

    def __init__(self, cfg: HTTPReaderConfig):
        import httpx

        self.cfg = cfg
        key = os.environ.get(cfg.api_key_env, "")
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(timeout=cfg.timeout_s, headers=headers)
        self.root = cfg.base_url.removesuffix("/v1")
        self.requests = 0  # requests that got an answer (tests and benchmarks read it)

    def url(self, path: str, root: bool = False) -> str:
        return (self.root if root else self.cfg.base_url) + path

    def request(self, method: str, url: str, body: dict | None = None, quiet_404: bool = False) -> dict | None:
        """The JSON answer; None for a 404/405 when ``quiet_404`` (an endpoint this server lacks)."""
        import httpx

        delay, last = self.cfg.backoff_s, ""
        for attempt in range(self.cfg.retries + 1):
            if attempt:
                time.sleep(delay)
                delay *= 2
            try:
                resp = self._http.request(method, url, json=body)
            except httpx.TransportError as exc:  # refused, reset, timed out
                last = f"{type(exc).__name__}: {exc}"
                continue
            if resp.status_code >= 500:
                last = f"HTTP {resp.status_code}: {resp.text[:200]}"
                continue
            if resp.status_code in (404, 405) and quiet_404:
                return None
            if resp.status_code >= 400:
                raise AdactxError(f"reader server {url}: HTTP {resp.status_code}: {resp.text[:300]}")
            self.requests += 1
            try:
                return resp.json()
            except ValueError as exc:
                raise AdactxError(f"reader server {url}: not a JSON answer ({exc})") from exc
        tries = self.cfg.retries + 1
        raise AdactxError(f"reader server {url}: no answer after {tries} tries ({last}); is the server running?")

    def close(self) -> None:
        self._http.close()


class _ServerTokenizer:
    """The server's own tokenizer: llama.cpp ``/tokenize``, llama-cpp-python ``/extras/tokenize``, vLLM."""

    ROUTES = ("/tokenize", "/extras/tokenize")

    def __init__(self, client: ServerClient, model: str):
        self.client, self.model = client, model
        self.route = None
        for route in self.ROUTES:
            if self._call(route, "") is not None:
                self.route = route
                break
        if self.route is None:
            raise AdactxError(
                f"reader server {client.root}: no /tokenize endpoint; pass a local tokenizer of the served "
                "model (--tokenizer DIR)"
            )
        self.prefix = len(self._call(self.route, "") or [])  # a BOS the endpoint adds to every text

    def _call(self, route: str, text: str) -> list[int] | None:
        body = {"content": text, "input": text, "prompt": text, "model": self.model,
                "add_special": False, "add_special_tokens": False, "parse_special": True}
        out = self.client.request("POST", self.client.url(route, root=True), body, quiet_404=True)
        if out is None or not isinstance(out.get("tokens"), list):
            return None
        return [t["id"] if isinstance(t, dict) else int(t) for t in out["tokens"]]

    def encode(self, text: str) -> list[int]:
        return (self._call(self.route, text) or [])[self.prefix :]

    def decode(self, ids: list[int]) -> str:
        route = self.route.replace("tokenize", "detokenize")
        body = {"tokens": list(ids), "model": self.model}
        out = self.client.request("POST", self.client.url(route, root=True), body) or {}
        return str(out.get("content", out.get("text", out.get("prompt", ""))))


class OpenAIReader:
    """A reader whose model runs behind an OpenAI-compatible server. See the module docstring."""

    def __init__(self, cfg: HTTPReaderConfig, client: ServerClient | None = None):
        self.cfg = cfg
        self.client = client or ServerClient(cfg)
        self.name = f"openai:{cfg.base_url}#{cfg.model}"
        self.seconds = 0.0
        meta = self._model_meta()
        self.n_params = int(cfg.n_params or meta.get("n_params") or 0)
        self.max_context = int(cfg.max_context or self._server_window(meta) or DEFAULT_WINDOW)
        self.tokenizer = self._local_tokenizer()
        self._server_tok = None if self.tokenizer is not None else _ServerTokenizer(self.client, cfg.model)
        self._texts: OrderedDict[str, list[int]] = OrderedDict()
        self._by_ids: dict[tuple[int, ...], str] = {}
        self._head_tail = split_chat_template(self._render_chat)
        self.last_prompt_ids: list[int] = []  # the previous request's prompt (the server's cached prefix)
        # totals over all sessions, as the server reported them (prompt_computed: see the module docstring)
        self.server_usage = {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0, "prompt_computed": 0}

    # --- server facts -----------------------------------------------------------------------------
    def _model_meta(self) -> dict:
        """``/v1/models``: checks the server is up and serves ``model``; llama.cpp adds a ``meta``."""
        out = self.client.request("GET", self.client.url("/models")) or {}
        served = [m.get("id") for m in out.get("data", []) if isinstance(m, dict)]
        if served and self.cfg.model not in served and len(served) > 1:
            raise AdactxError(f"reader server {self.cfg.base_url}: no model {self.cfg.model!r} (serves {served})")
        for m in out.get("data", []):
            if isinstance(m, dict) and isinstance(m.get("meta"), dict):
                return m["meta"]
        return {}

    def _server_window(self, meta: dict) -> int | None:
        """The window the server runs with: llama.cpp ``/props`` (n_ctx), else the model's trained one."""
        props = self.client.request("GET", self.client.url("/props", root=True), quiet_404=True) or {}
        n_ctx = (props.get("default_generation_settings") or {}).get("n_ctx")
        return n_ctx or meta.get("n_ctx_train")

    def _local_tokenizer(self):
        if not self.cfg.tokenizer:
            return None
        from transformers import AutoTokenizer

        return AutoTokenizer.from_pretrained(self.cfg.tokenizer)

    def _render_chat(self, messages: list[dict]) -> str:
        """The chat layout: the local tokenizer's template, else ChatML (llama.cpp's own default)."""
        if self.tokenizer is not None and getattr(self.tokenizer, "chat_template", None):
            return self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return turns + "<|im_start|>assistant\n"

    # --- tokens -----------------------------------------------------------------------------------
    def encode(self, text: str) -> list[int]:
        ids = self._texts.get(text)
        if ids is None:
            if self.tokenizer is not None:
                ids = self.tokenizer.encode(text, add_special_tokens=False)
            else:
                ids = self._server_tok.encode(text)
            self._texts[text] = ids
            self._by_ids[tuple(ids)] = text
            if len(self._texts) > _CACHE_ITEMS:
                _, old_ids = self._texts.popitem(last=False)
                self._by_ids.pop(tuple(old_ids), None)
        else:
            self._texts.move_to_end(text)
        return list(ids)

    def count_tokens(self, text: str) -> int:
        return len(self.encode(text))

    def decode(self, ids: list[int]) -> str:
        known = self._by_ids.get(tuple(ids))
        if known is not None:
            return known
        if self.tokenizer is not None:
            return self.tokenizer.decode(ids, skip_special_tokens=True)
        return self._server_tok.decode(ids)

    def flops(self, n_new: int, n_past: int) -> float:
        """``2 · n_params`` per computed token (the attention term needs the architecture: left out)."""
        return 2.0 * self.n_params * n_new

    # --- prompts and sessions ---------------------------------------------------------------------
    def prompt_parts(self, question: str, task: str = "qa") -> tuple[str, str]:
        return layout_prompt(*self._head_tail, question, task)

    def session(self, question: str, task: str = "qa") -> OpenAISession:
        head, tail = self.prompt_parts(question, task)
        return OpenAISession(self, head, tail)

    def complete(self, prompt: str, max_new_tokens: int) -> dict:
        """One ``/v1/completions`` request (greedy); returns the server's JSON answer."""
        body = {
            "model": self.cfg.model,
            "prompt": prompt,
            "max_tokens": max_new_tokens,
            "temperature": 0.0,
            "seed": 0,
            "stop": ["<|im_end|>", "<|im_start|>"],  # ChatML's turn ends, for servers that do not stop there
            "cache_prompt": self.cfg.cache_prompt,
            **self.cfg.extra_body,
        }
        if self.cfg.logprobs:
            body["logprobs"] = 1
        t0 = time.perf_counter()
        out = self.client.request("POST", self.client.url("/completions"), body)
        self.seconds += time.perf_counter() - t0
        if not out or not out.get("choices"):
            raise AdactxError(f"reader server {self.cfg.base_url}: a completion without choices: {str(out)[:200]}")
        return out

    def compute(self, pieces: list[list[int]], tail_ids: list[int], max_new_tokens: int) -> Generation:
        """What the reader memo calls on a miss: the pieces (head first) are ids this reader encoded."""
        session = OpenAISession(self, self.decode(pieces[0]), self.decode(tail_ids))
        for piece in pieces[1:]:
            session.append(self.decode(piece))
        gen = session.generate(max_new_tokens)
        if gen.mean_logprob is None:  # the memo stores a missing confidence as a non-finite one
            gen.mean_logprob = -math.inf
        return gen


class OpenAISession(AppendOnlyContext):
    """An append-only context whose every generation is one completion request over the whole prompt."""

    def __init__(self, reader: OpenAIReader, head: str, tail: str):
        self.reader = reader
        self.head = head
        self.tail = tail
        self.tail_ids = reader.encode(tail)
        self.context_ids: list[int] = list(reader.encode(head))
        self.pieces: list[str] = []
        self.usage = Usage()
        self.seconds = 0.0
        self.accounting: list[str] = []  # per request: timings | cached_tokens | prefix
        self.responses: list[dict] = []  # the server's answers, as received

    def append(self, text: str) -> int:
        """Add text to the context (sent with the next request). Returns its token count."""
        ids = self.reader.encode(text)
        if len(ids) > self.room(0):
            raise AdactxError(
                f"context full: {len(ids)} more tokens would exceed the window of {self.reader.max_context}"
            )
        self.pieces.append(text)
        self.context_ids.extend(ids)
        return len(ids)

    @property
    def prompt(self) -> str:
        return self.head + "".join(self.pieces) + self.tail

    def generate(self, max_new_tokens: int = 16) -> Generation:
        """Greedy completion of ``head + pieces + tail``; usage from the server's answer."""
        t0 = time.perf_counter()
        prompt = self.prompt
        out = self.reader.complete(prompt, max_new_tokens)
        self.seconds += time.perf_counter() - t0
        self.responses.append(out)
        choice = out["choices"][0]
        text = str(choice.get("text", ""))
        n_gen = int((out.get("usage") or {}).get("completion_tokens", len(self.reader.encode(text))))
        spent = self._request_usage(out, prompt, n_gen, choice.get("finish_reason"))
        self.usage = self.usage + spent
        return Generation(text.strip(), self.reader.encode(text), _mean_logprob(choice), math.nan, spent)

    def _request_usage(self, out: dict, prompt: str, n_gen: int, finish: str | None) -> Usage:
        """Prompt tokens computed vs reused, from the server's figures where it gives them."""
        usage = out.get("usage") or {}
        timings = out.get("timings") or {}
        details = usage.get("prompt_tokens_details") or {}
        prompt_ids = self._server_prompt_ids(prompt)
        n_prompt = int(usage.get("prompt_tokens") or len(prompt_ids))
        if "prompt_n" in timings:
            computed, source = int(timings["prompt_n"]), "timings"
        elif details.get("cached_tokens") is not None:
            computed, source = n_prompt - int(details["cached_tokens"]), "cached_tokens"
        else:
            computed, source = n_prompt - _prefix_reused(self.reader.last_prompt_ids, prompt_ids), "prefix"
        self.reader.last_prompt_ids = prompt_ids
        self.accounting.append(source)
        totals = self.reader.server_usage
        totals["requests"] += 1
        totals["prompt_tokens"] += n_prompt
        totals["completion_tokens"] += n_gen
        totals["prompt_computed"] += computed
        fed_back = n_gen if finish == "stop" else max(n_gen - 1, 0)  # the last sampled token is not fed back
        n_past = n_prompt - computed
        return Usage(
            tokens_computed=computed + fed_back,
            tokens_reused=n_past,
            tokens_generated=n_gen,
            flops=self.reader.flops(computed + fed_back, n_past),
            calls=1,
        )

    def _server_prompt_ids(self, prompt: str) -> list[int]:
        """The whole prompt as the server tokenizes it (BOS included), to model its prefix cache."""
        tok = self.reader._server_tok
        if tok is not None:
            return tok._call(tok.route, prompt) or []
        return self.reader.encode(prompt)

    def draft(self, max_new_tokens: int = 8) -> Generation:
        """A short draft whose mean log-prob (None without server logprobs) is the confidence."""
        return self.generate(max_new_tokens)

    def answer(self, max_new_tokens: int = 64) -> Generation:
        return self.generate(max_new_tokens)


def _prefix_reused(previous: list[int], prompt: list[int]) -> int:
    """Prompt tokens a one-slot prefix cache keeps: the shared prefix, less one when it is the whole
    prompt (the last token is recomputed to get fresh logits), as llama.cpp does."""
    shared = 0
    for a, b in zip(previous, prompt):
        if a != b:
            break
        shared += 1
    return shared - 1 if shared == len(prompt) and shared else shared


def _mean_logprob(choice: dict) -> float | None:
    """Mean of the returned token log-probs (OpenAI ``logprobs.token_logprobs``), None when absent."""
    lp = choice.get("logprobs") or {}
    values = lp.get("token_logprobs")
    if values is None and isinstance(lp.get("content"), list):  # chat-style logprobs
        values = [c.get("logprob") for c in lp["content"]]
    values = [float(v) for v in (values or []) if v is not None]
    return sum(values) / len(values) if values else None


__all__ = ["HTTPReaderConfig", "OpenAIReader", "OpenAISession", "ServerClient"]
