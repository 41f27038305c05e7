"""The HTTP reader against a real llama.cpp server (``llama-cpp-python[server]``, in the dev extra),
started on 127.0.0.1 with the bundled SmolLM2 GGUF; accounting held against the server's own figures."""

import json

import pytest
from llama_server import llama_server, prompt_evals

from adactx.http_reader import DEFAULT_WINDOW
from adactx.optional import has

pytestmark = pytest.mark.skipif(
    not has("llama_cpp"), reason="needs llama-cpp-python[server]: pip install -e '.[dev]' (or '.[server]')"
)
QUESTION = "What is the target price of the remote?"
# short on purpose: on a loaded 2-core machine llama.cpp computes ~10 prompt tokens per second here
TEXT = (
    "The project manager opened the meeting. The remote control should sell for twenty-five euros. "
    "The production cost target is twelve euros fifty. The designer wants a yellow case. "
    "Marketing found that young people like soft buttons. The team will meet again on Friday."
)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with llama_server(tmp_path_factory.mktemp("llama") / "server.log", n_ctx=1024) as running:
        yield running


def _reader(server, **overrides):
    from adactx.http_reader import HTTPReaderConfig, OpenAIReader

    cfg = {"timeout_s": 900.0, **overrides}  # slow here: no timed-out request is retried by accident
    return OpenAIReader(HTTPReaderConfig(base_url=server.base_url, model=server.model, **cfg))


def test_session_accounting_matches_the_server(server):
    """Appends are free until a request; each request's prompt is split into computed + reused exactly as
    the server split it (its own log), and usage sums to the server's `usage`."""
    reader = _reader(server)
    assert reader.max_context == DEFAULT_WINDOW  # llama-cpp-python does not report its n_ctx
    session = reader.session(QUESTION)
    mark = server.log_size()
    session.append("\nThe remote control should sell for twenty-five euros.")
    first = session.draft(4)
    session.append("\nThe production cost target is twelve euros fifty, for a profit of fifty million.")
    second = session.draft(4)
    answer = session.answer(8)
    assert session.accounting == ["prefix", "prefix", "prefix"]  # llama-cpp-python reports no timings
    assert [r["usage"]["prompt_tokens"] for r in session.responses] == [
        g.usage.tokens_reused + (g.usage.tokens_computed - _fed_back(g, r))
        for g, r in zip((first, second, answer), session.responses)
    ]
    assert session.usage.tokens_generated == sum(r["usage"]["completion_tokens"] for r in session.responses)
    prompts = [r["usage"]["prompt_tokens"] for r in session.responses]
    server_counts = prompt_evals(server.log_since(mark), prompts)
    ours = [g.usage.tokens_computed - _fed_back(g, r) for g, r in zip((first, second, answer), session.responses)]
    # the first request may find an older test's prompt in the server's cache: ours is then an upper bound
    assert server_counts[0] <= ours[0] and server_counts[1:] == ours[1:]
    assert second.usage.tokens_reused >= reader.count_tokens(session.head)  # head + first chunk were reused
    assert first.mean_logprob is not None and first.mean_logprob <= 0  # confidence from returned logprobs
    assert answer.text


def _fed_back(gen, response) -> int:
    n = response["usage"]["completion_tokens"]
    return n if response["choices"][0]["finish_reason"] == "stop" else max(n - 1, 0)


def test_token_counts_come_from_the_server(server):
    reader = _reader(server)
    tok = reader._server_tok
    assert tok.route == "/extras/tokenize"  # llama-cpp-python's endpoint (llama.cpp and vLLM: /tokenize)
    text = "The target price is twenty-five euros."
    ids = reader.encode(text)
    assert len(ids) == reader.count_tokens(text) > 5
    assert tok.decode(ids) == text  # the server's detokenizer gives the text back
    prompt = reader.session(QUESTION).prompt
    assert reader.count_tokens(prompt) + tok.prefix == len(tok._call(tok.route, prompt))


def test_full_ask_session_through_the_server(server, tmp_path, tmp_cache):
    """`ContextManager(reader=spec)`: a whole threshold session; the trace's usage is the server's usage."""
    from adactx.retrieval.encoders import HashingEncoder

    from adactx.api import ContextManager

    spec = {"kind": "openai", "base_url": server.base_url, "model": server.model, "timeout_s": 900.0}
    cm = ContextManager(reader=spec, policy="threshold", budget=64, max_steps=2, encoder=HashingEncoder(),
                        index_kind="bm25", chunk_tokens=24, db=tmp_path / "s.sqlite",
                        settings={"answer_tokens": 8, "draft_tokens": 4})
    cm.add_text(TEXT, doc_id="meeting")
    result = cm.ask(QUESTION)
    totals = cm.reader.server_usage
    u = result.trace.usage
    assert result.answer and result.trace.steps
    assert u.calls == totals["requests"] >= 2  # at least one draft and the answer
    assert u.tokens_generated == totals["completion_tokens"]
    assert u.tokens_reused == totals["prompt_tokens"] - totals["prompt_computed"]
    assert totals["prompt_computed"] <= u.tokens_computed <= totals["prompt_computed"] + totals["completion_tokens"]


def test_ask_cli_over_the_server(server, tmp_path, tmp_cache):
    from typer.testing import CliRunner

    from adactx.cli import app

    db = tmp_path / "s.sqlite"
    doc = tmp_path / "meeting.txt"
    doc.write_text(TEXT)
    args = ["ask", str(doc), QUESTION, "--reader", "openai", "--base-url", server.base_url, "--model", server.model,
            "--policy", "topk-1", "--budget", "64", "--index", "bm25", "--chunk-tokens", "24", "--db", str(db)]
    result = CliRunner().invoke(app, args)
    assert result.exit_code == 0, result.output
    assert "run id" in result.output
    listed = CliRunner().invoke(app, ["trace", "list", "--db", str(db), "--json"])
    run_id = json.loads(listed.output.splitlines()[0])["session_id"]
    shown = json.loads(CliRunner().invoke(app, ["trace", "show", run_id, "--db", str(db), "--json"]).output)
    assert shown["results"][0]["answer"]


def test_eval_memo_over_the_server(server, tmp_path, tmp_cache):
    """`adactx eval --reader openai` goes through the reader memo: a second run is all hits."""
    from adactx.retrieval.encoders import HashingEncoder
    from adactx.rl.evaluate import EvalConfig, load_examples, run_eval
    from helpers import ROOT  # noqa: F401  (tests/ on the path)

    from adactx.reader_spec import ReaderSpec, make_reader

    data = tmp_path / "mine.jsonl"
    data.write_text(json.dumps({"document": TEXT, "question": QUESTION, "answers": ["25 euros"]}) + "\n")
    cfg = EvalConfig(data=str(data), n=1, policies=("topk-1",), budget=64, max_steps=2, encoder="hashing",
                     index_kind="bm25", chunk_tokens=24, answer_tokens=8, n_boot=50, lambdas=(0.0,))
    reader = make_reader(ReaderSpec(kind="openai", base_url=server.base_url, model=server.model, timeout_s=900.0))
    examples = load_examples(cfg, None)
    run_eval(cfg, tmp_path / "run1", reader=reader, encoder=HashingEncoder(), memo_path=tmp_path / "m.sqlite",
             examples=examples)
    sent = reader.server_usage["requests"]
    assert sent >= 1
    again = run_eval(cfg, tmp_path / "run2", reader=reader, encoder=HashingEncoder(),
                     memo_path=tmp_path / "m.sqlite", examples=examples)
    assert reader.server_usage["requests"] == sent and again["memo"]["hits"] >= 1
