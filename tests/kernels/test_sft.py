"""`adactx train sft`: layout, label masking, SFT grouping, adapter round trip, learning, resume."""

from __future__ import annotations

import json

import pytest
import torch
from adactx.kernels import s2attn
from adactx.kernels.sft import IGNORE_INDEX, answer_nll_sum, fit_pieces, layout_example
from adactx.kernels.sft_config import SFTTrainConfig

from adactx.data.sft import SFTRecord
from adactx.errors import AdactxError

PIECES = ["\nThe meeting discussed the budget.", "\nThe secret passkey is 71432.", "\nThe grass is green."]


def _record(answer="71432", pieces=PIECES, gold=(False, True, False), task="qa"):
    return SFTRecord(task, "What is the passkey?", list(pieces), answer, list(gold), "toy")


@pytest.fixture()
def tiny_model_dir(tmp_path):
    from helpers import save_tiny_model

    return save_tiny_model(tmp_path / "tiny", max_context=256)


# --- layout and labels ---------------------------------------------------------------------------------
@pytest.mark.parametrize("task", ["qa", "query_summary"])
def test_prompt_layout_is_the_inference_layout(task):
    from helpers import tiny_reader

    reader = tiny_reader()
    record = _record(task=task)
    layout = layout_example(reader, record, max_length=512)
    session = reader.session(record.question, task)
    for piece in record.pieces:
        session.append(piece)
    prompt = session.context_ids + session.tail_ids
    assert layout.input_ids[: len(prompt)] == prompt  # the very token ids the reader computes
    assert layout.input_ids[len(prompt) :] == reader.encode("71432") + [reader.tokenizer.eos_token_id]
    assert reader.tokenizer.eos_token_id in reader.eos_ids  # the end token is one the reader stops on


def test_labels_mask_everything_but_the_answer_and_its_end_token():
    from helpers import tiny_reader

    reader = tiny_reader()
    layout = layout_example(reader, _record(), max_length=512)
    answer = reader.encode("71432") + [reader.tokenizer.eos_token_id]
    n = len(answer)
    assert layout.labels[-n:] == answer and set(layout.labels[:-n]) == {IGNORE_INDEX}
    assert layout.n_answer == n


def test_loss_is_the_nll_of_the_answer_tokens_only():
    from helpers import tiny_reader
    from peft import LoraConfig, get_peft_model

    reader = tiny_reader()
    model = get_peft_model(reader.model, LoraConfig(r=2, target_modules=["q_proj"]))
    layout = layout_example(reader, _record(), max_length=512)
    ids, labels = torch.tensor([layout.input_ids]), torch.tensor([layout.labels])
    with torch.no_grad():
        got = answer_nll_sum(model, ids, labels, "float32")
        logits = model(input_ids=ids).logits[0, :-1]
    nll = torch.nn.functional.cross_entropy(logits, ids[0, 1:], reduction="none")
    answer_positions = labels[0, 1:] != IGNORE_INDEX
    torch.testing.assert_close(got, nll[answer_positions].sum())
    assert not torch.isclose(got, nll.sum())  # the context tokens would add to it


def test_the_document_is_cut_never_the_answer():
    from helpers import tiny_reader

    reader = tiny_reader()
    long_answer = "The secret passkey is 71432. " * 3
    full = layout_example(reader, _record(answer=long_answer), max_length=4096)
    short = layout_example(reader, _record(answer=long_answer), max_length=len(full.input_ids) - 5)
    assert len(short.input_ids) <= len(full.input_ids) - 5
    assert short.labels[-short.n_answer :] == full.labels[-full.n_answer :]  # the answer intact
    assert short.n_context < full.n_context
    # distractors go first: the gold piece survives a cut that removes the last distractor
    assert fit_pieces([[1] * 5, [2] * 5, [3] * 5], [False, True, False], 10) == [[1] * 5, [2] * 5]
    assert fit_pieces([[1] * 5, [2] * 5], [True, True], 7) == [[1] * 5, [2] * 2]


# --- S²-Attn: LongLoRA's SFT grouping ----------------------------------------------------------------------
@pytest.mark.parametrize("seq_len,fixed", [(40, 16), (100, 16), (64, 8), (30, 64), (8192, 8192), (4096, 8192), (5000, 2048)])
def test_sft_bounds_match_the_upstream_cu_seqlens(seq_len, fixed):
    size = s2attn.sft_group_size(seq_len, 0.25, fixed)
    expected = s2attn.sft_cu_seqlens_reference(seq_len, 0.25, fixed)
    assert (s2attn.sft_bounds(seq_len, size, False), s2attn.sft_bounds(seq_len, size, True)) == expected
    if seq_len % 4096 == 0:
        assert size == seq_len // 4  # the length-proportional rule at multiples of 4096
    else:
        assert size == fixed


@pytest.mark.parametrize("seq_len,fixed,heads,kv", [(40, 16, 4, 2), (100, 16, 9, 3), (64, 8, 4, 4), (30, 64, 4, 2)])
def test_sft_grouped_sdpa_matches_the_sft_reference(seq_len, fixed, heads, kv):
    torch.manual_seed(0)
    q = torch.randn(2, heads, seq_len, 8, dtype=torch.float64, requires_grad=True)
    k = torch.randn(2, kv, seq_len, 8, dtype=torch.float64, requires_grad=True)
    v = torch.randn(2, kv, seq_len, 8, dtype=torch.float64, requires_grad=True)
    s2attn.set_sft_group_size(fixed)
    try:
        fast = s2attn.s2_attention(q, k, v)
    finally:
        s2attn.set_sft_group_size(None)
    ref = s2attn.s2_attention_sft_reference(q, k, v, fixed=fixed)
    torch.testing.assert_close(fast, ref, atol=1e-10, rtol=1e-8)
    grads = torch.autograd.grad(fast.sum(), (q, k, v))
    ref_grads = torch.autograd.grad(ref.sum(), (q, k, v))
    for g, r in zip(grads, ref_grads):
        torch.testing.assert_close(g, r, atol=1e-10, rtol=1e-8)
    if fixed >= 2 * seq_len:  # one group: full causal attention for every head
        torch.testing.assert_close(fast, s2attn.full_attention_reference(q, k, v), atol=1e-10, rtol=1e-8)


# --- config ---------------------------------------------------------------------------------------------
def test_config_validation_names_the_field(tmp_path):
    with pytest.raises(AdactxError, match="^max_steps"):
        SFTTrainConfig(max_steps=0)
    with pytest.raises(AdactxError, match="report_to: 'wandb' is not one of"):
        SFTTrainConfig(report_to="wandb")
    with pytest.raises(AdactxError, match="^sources"):
        SFTTrainConfig(data={"sources": ["mixed:val"], "weights": [1.0]})
    with pytest.raises(AdactxError, match="^data.lenghts"):
        SFTTrainConfig(data={"lenghts": [1]})
    bad = tmp_path / "c.toml"
    bad.write_text("max_stepz = 3\n")
    with pytest.raises(AdactxError, match="c.toml: max_stepz"):
        SFTTrainConfig.from_file(bad)
    assert all(SFTTrainConfig.help().values())


# --- training, adapter, resume ---------------------------------------------------------------------------
CODES = ["71432", "budget", "green", "schedule", "remote"]


def toy_record(i: int) -> SFTRecord:
    """The answer is written in the context: a reader that reads can copy it."""
    code = CODES[i % len(CODES)]
    pieces = [f"\nThe meeting discussed the {CODES[(i + 1) % 5]}.", f"\nThe secret passkey is {code}.", "\nThe grass is green."]
    return SFTRecord("qa", "What is the secret passkey?", pieces, code, [False, True, False], "toy")


def _cfg(model_dir, out, **kw):
    base = {
        "model": str(model_dir), "output_dir": str(out), "model_max_length": 256, "max_answer_tokens": 16,
        "max_steps": 4, "per_device_train_batch_size": 1, "gradient_accumulation_steps": 2,
        "learning_rate": 1e-2, "warmup_steps": 0, "save_steps": 2, "dtype": "float32", "seed": 0,
        "sft_group_size": 32, "report_to": "none",
    }
    base.update(kw)
    return SFTTrainConfig(**base)


def _answer_loss(model, reader, records) -> float:
    total, n = 0.0, 0
    with torch.no_grad():
        for record in records:
            layout = layout_example(reader, record, 256, 16)
            ids, labels = torch.tensor([layout.input_ids]), torch.tensor([layout.labels])
            total += float(answer_nll_sum(model, ids, labels, "float32"))
            n += layout.n_answer
    return total / n


def test_tiny_sft_run_lowers_the_answer_loss(tiny_model_dir, tmp_path):
    from adactx.kernels.sft import build_model, train_sft
    from adactx.kernels.train import latest_checkpoint, load_checkpoint

    from adactx.reader import HFReader

    cfg = _cfg(tiny_model_dir, tmp_path / "run", max_steps=20, save_steps=20, learning_rate=3e-2)
    model, tok, _ = build_model(cfg)
    reader = HFReader(model, tok)
    held_out = [toy_record(i) for i in range(100, 105)]
    before = _answer_loss(model, reader, held_out)
    train_sft(cfg, records=toy_record)
    load_checkpoint(latest_checkpoint(tmp_path / "run"), model, torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad]))
    after = _answer_loss(model, reader, held_out)
    assert after < before - 0.25, (before, after)  # nats per answer token on held-out records (6.05 -> 5.66)
    steps = [json.loads(x) for x in (tmp_path / "run" / "train_log.jsonl").read_text().splitlines()]
    assert [s["step"] for s in steps] == list(range(1, 21)) and steps[-1]["loss"] < steps[0]["loss"]


def test_adapter_save_load_same_logits_and_portable_base(tiny_model_dir, tmp_path):
    from adactx.kernels.sft import build_model, train_sft

    from adactx.reader import load_reader

    cfg = _cfg(tiny_model_dir, tmp_path / "run", max_steps=2, model_max_length=512)  # 2x the window
    adapter = train_sft(cfg, records=toy_record)
    saved = json.loads((adapter / "adapter_config.json").read_text())
    assert saved["base_model_name_or_path"] == str(tiny_model_dir)  # as given, not a resolved cache path
    assert json.loads((adapter / "config.json").read_text())["rope_parameters"]["factor"] == 2.0
    trained, _, _ = build_model(cfg)
    trained.load_adapter(str(adapter), adapter_name="trained")
    trained.set_adapter("trained")
    trained.eval()
    reader = load_reader(str(tiny_model_dir), adapter=str(adapter), dtype="float32")
    assert reader.model.config.rope_parameters["factor"] == 2.0 and reader.max_context == 512
    assert not any("lora" in n for n, _ in reader.model.named_parameters())  # merged
    ids = torch.randint(0, 300, (1, 300))
    with torch.no_grad():
        torch.testing.assert_close(reader.model(input_ids=ids).logits, trained(input_ids=ids).logits,
                                   atol=1e-4, rtol=1e-4)
        plain = load_reader(str(tiny_model_dir), dtype="float32").model(input_ids=ids[:, :200]).logits
    assert not torch.allclose(plain, reader.model(input_ids=ids[:, :200]).logits, atol=1e-3)


def test_small_adapter_leaves_embeddings_frozen(tiny_model_dir, tmp_path):
    from adactx.kernels.sft import build_model, train_sft
    from safetensors.torch import load_file

    small = train_sft(_cfg(tiny_model_dir, tmp_path / "small", max_steps=1), records=toy_record)
    big = train_sft(_cfg(tiny_model_dir, tmp_path / "big", max_steps=1, train_embeddings=True), records=toy_record)
    small_keys, big_keys = load_file(small / "adapter_model.safetensors"), load_file(big / "adapter_model.safetensors")
    assert not any("embed_tokens" in k for k in small_keys) and any("embed_tokens" in k for k in big_keys)
    assert any("layernorm" in k for k in small_keys) and any("lora_B" in k for k in small_keys)
    model, _, _ = build_model(_cfg(tiny_model_dir, tmp_path / "x"))
    assert not any("mlp" in n or "lm_head" in n for n, p in model.named_parameters() if p.requires_grad)


def test_killed_run_resumes_to_the_same_adapter(tiny_model_dir, tmp_path):
    from adactx.kernels.sft import train_sft
    from safetensors.torch import load_file

    full = train_sft(_cfg(tiny_model_dir, tmp_path / "full"), records=toy_record)

    def kill_after_step_3(log):
        if log.step == 3:
            raise KeyboardInterrupt

    cfg = _cfg(tiny_model_dir, tmp_path / "killed")
    with pytest.raises(KeyboardInterrupt):
        train_sft(cfg, records=toy_record, on_step=kill_after_step_3)
    assert sorted(p.name for p in (tmp_path / "killed" / "checkpoints").glob("step-*")) == ["step-000002"]
    assert (tmp_path / "killed" / "checkpoints" / "step-000002" / "adapter" / "adapter_config.json").is_file()
    seen = []
    resumed = train_sft(cfg, records=toy_record, on_step=lambda log: seen.append(log.step))
    assert seen == [3, 4]
    a, b = load_file(full / "adapter_model.safetensors"), load_file(resumed / "adapter_model.safetensors")
    for key in a:
        torch.testing.assert_close(b[key], a[key], atol=1e-6, rtol=1e-5)


def test_tensorboard_logs_are_written(tiny_model_dir, tmp_path):
    from adactx.kernels.sft import train_sft

    train_sft(_cfg(tiny_model_dir, tmp_path / "run", max_steps=1, report_to="tensorboard"), records=toy_record)
    assert list((tmp_path / "run" / "runs").glob("events.out.tfevents.*"))


def test_cli_train_sft_on_the_real_train_splits(tiny_model_dir, tmp_path, shared_data):
    from typer.testing import CliRunner

    from adactx.cli import app

    config = tmp_path / "sft.toml"
    config.write_text(
        f'model = "{tiny_model_dir}"\noutput_dir = "{tmp_path / "run"}"\nmodel_max_length = 256\n'
        'max_answer_tokens = 32\nmax_steps = 1\ngradient_accumulation_steps = 2\ndtype = "float32"\n'
        'sft_group_size = 64\n[data]\nsources = ["mixed:train", "qmsum:train"]\nweights = [1.0, 1.0]\n'
        "min_context_tokens = 64\nmax_context_tokens = 100\nchunk_tokens = 32\n"
    )
    result = CliRunner().invoke(app, ["train", "sft", "--config", str(config)])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "run" / "adapter" / "adapter_model.safetensors").is_file()
    assert (tmp_path / "run" / "checkpoints" / "step-000001" / "adapter" / "config.json").is_file()
    log = json.loads((tmp_path / "run" / "train_log.jsonl").read_text().splitlines()[0])
    assert log["step"] == 1 and log["answer_tokens"] > 0 and log["tokens"] <= 2 * 256
    bad = tmp_path / "bad.toml"
    bad.write_text("max_steps = 0\n")
    result = CliRunner().invoke(app, ["train", "sft", "--config", str(bad)])
    assert result.exit_code != 0
