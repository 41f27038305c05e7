"""The HTTP reader's failure handling and specs, without a model: a closed port, and a small stdlib
HTTP server that answers 503 a few times before it answers."""

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from llama_server import free_port

from adactx.errors import AdactxError
from adactx.http_reader import HTTPReaderConfig, OpenAIReader, ServerClient, _mean_logprob, _prefix_reused
from adactx.reader_spec import ReaderSpec, is_reader, parse_reader


def test_server_down_is_a_clear_error_naming_the_url():
    url = f"http://127.0.0.1:{free_port()}/v1"
    with pytest.raises(AdactxError, match=f"reader server {url}/models: no answer after 3 tries") as err:
        OpenAIReader(HTTPReaderConfig(base_url=url, model="m", retries=2, backoff_s=0.01))
    assert "is the server running" in str(err.value)


class _Flaky(BaseHTTPRequestHandler):
    failures = 2
    seen = 0

    def do_GET(self):
        type(self).seen += 1
        if type(self).seen <= type(self).failures:
            self.send_response(503)
            self.end_headers()
            return
        body = b'{"data": [{"id": "m"}]}'
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


def test_5xx_is_retried_with_backoff_then_answers():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Flaky)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_address[1]}/v1"
        client = ServerClient(HTTPReaderConfig(base_url=url, model="m", retries=3, backoff_s=0.01))
        assert client.request("GET", client.url("/models")) == {"data": [{"id": "m"}]}
        assert _Flaky.seen == 3
        _Flaky.seen = 0
        client = ServerClient(HTTPReaderConfig(base_url=url, model="m", retries=1, backoff_s=0.01))
        with pytest.raises(AdactxError, match="HTTP 503"):
            client.request("GET", client.url("/models"))
    finally:
        server.shutdown()


def test_prefix_model_and_logprobs():
    assert _prefix_reused([1, 2, 3, 9], [1, 2, 3, 4, 5]) == 3
    assert _prefix_reused([1, 2, 3, 4], [1, 2, 3]) == 2  # whole prompt cached: the last token is recomputed
    assert _prefix_reused([], [1, 2]) == 0
    assert _mean_logprob({"logprobs": {"token_logprobs": [-1.0, -3.0, None]}}) == -2.0
    assert _mean_logprob({"logprobs": None}) is None  # a server without logprobs: no confidence


def test_config_and_spec_validation():
    with pytest.raises(AdactxError, match="HTTPReaderConfig.base_url"):
        HTTPReaderConfig(base_url="localhost:8080", model="m")
    with pytest.raises(AdactxError, match="HTTPReaderConfig.retries"):
        HTTPReaderConfig(base_url="http://x/v1", model="m", retries=-1)
    spec = parse_reader("openai:http://127.0.0.1:8080/v1", model="smollm2")
    assert (spec.kind, spec.base_url, spec.model) == ("openai", "http://127.0.0.1:8080/v1", "smollm2")
    assert parse_reader(None, model="dir", device="cpu") == ReaderSpec(model="dir", device="cpu")
    with pytest.raises(AdactxError, match="unknown field"):
        parse_reader({"kind": "openai", "url": "x"})
    with pytest.raises(AdactxError, match="ReaderSpec.base_url"):
        parse_reader("openai", model="m")
    assert not is_reader(spec)
