"""S²-Attn: the SDPA fast path against the pure-torch reference; registration in transformers."""

from __future__ import annotations

import pytest
import torch
from adactx.kernels import s2attn
from adactx.kernels.s2attn import s2_attention_reference, s2_attention_sdpa
from adactx.kernels.s2groups import group_bounds

# float64 on CPU: the fast path and the oracle agree to rounding; these bounds are the stated tolerance
ATOL, RTOL = 1e-10, 1e-8


def _qkv(bsz, heads, kv_heads, seq_len, dim=8, dtype=torch.float64, seed=0):
    g = torch.Generator().manual_seed(seed)
    q = torch.randn(bsz, heads, seq_len, dim, generator=g, dtype=dtype)
    k = torch.randn(bsz, kv_heads, seq_len, dim, generator=g, dtype=dtype)
    v = torch.randn(bsz, kv_heads, seq_len, dim, generator=g, dtype=dtype)
    return q, k, v


def test_group_bounds_split_the_wrapped_group():
    assert group_bounds(16, 4, 0) == [0, 4, 8, 12, 16]
    assert group_bounds(16, 4, 2) == [0, 2, 6, 10, 14, 16]  # edge halves [0,2) and [14,16) apart
    assert group_bounds(10, 4, 2) == [0, 2, 6, 10]  # T not a multiple of G: last group shorter


@pytest.mark.parametrize("seq_len", [8, 16, 40, 64, 100, 128])
@pytest.mark.parametrize("heads,kv_heads", [(4, 4), (4, 2), (9, 3)])
def test_sdpa_matches_reference_outputs_and_grads(seq_len, heads, kv_heads):
    q, k, v = _qkv(2, heads, kv_heads, seq_len)
    for t in (q, k, v):
        t.requires_grad_(True)
    ref = s2_attention_reference(q, k, v)
    fast = s2_attention_sdpa(q, k, v)
    torch.testing.assert_close(fast, ref, atol=ATOL, rtol=RTOL)
    grad_out = torch.randn_like(ref)
    ref_grads = torch.autograd.grad(ref, (q, k, v), grad_out)
    fast_grads = torch.autograd.grad(fast, (q, k, v), grad_out)
    for a, b in zip(fast_grads, ref_grads):
        torch.testing.assert_close(a, b, atol=ATOL, rtol=RTOL)


def test_bf16_fast_path_close_to_float64_reference():
    q, k, v = _qkv(1, 4, 2, 256, dim=16)
    ref = s2_attention_reference(q, k, v)
    fast = s2_attention_sdpa(q.bfloat16(), k.bfloat16(), v.bfloat16()).double()
    torch.testing.assert_close(fast, ref, atol=3e-2, rtol=3e-2)


def test_no_token_sees_its_future():
    """Perturbing token j changes no output at positions < j, for every head (edge groups included)."""
    q, k, v = _qkv(1, 4, 2, 32)
    base = s2_attention_sdpa(q, k, v)
    for j in (0, 3, 5, 16, 29, 31):
        k2, v2 = k.clone(), v.clone()
        k2[:, :, j] += 1.0
        v2[:, :, j] += 1.0
        out = s2_attention_sdpa(q, k2, v2)
        assert torch.equal(out[:, :, :j], base[:, :, :j]), j


def test_groups_are_local_and_heads_shifted():
    """Unshifted heads never mix groups; shifted heads at a group's first token see the previous group."""
    q, k, v = _qkv(1, 2, 2, 16)  # G = 4, s = 2; head 0 unshifted, head 1 shifted
    base = s2_attention_sdpa(q, k, v)
    k2, v2 = k.clone(), v.clone()
    k2[:, :, 3] += 1.0  # last token of group [0, 4)
    v2[:, :, 3] += 1.0
    out = s2_attention_sdpa(q, k2, v2)
    assert torch.equal(out[:, 0, 4:], base[:, 0, 4:])  # head 0: later groups untouched
    assert not torch.equal(out[:, 1, 4:6], base[:, 1, 4:6])  # head 1: group [2, 6) crosses the boundary
    assert torch.equal(out[:, 1, 6:], base[:, 1, 6:])


def test_ratio_one_is_full_causal_attention():
    q, k, v = _qkv(1, 2, 2, 24)
    full = s2attn.full_attention_reference(q, k, v)
    torch.testing.assert_close(s2_attention_sdpa(q, k, v, ratio=1.0)[:, :1], full[:, :1])  # unshifted head


# --- inside a transformers model -------------------------------------------------------------------
def _models(seed=0, **overrides):
    from helpers import tiny_llama

    s2attn.register()
    a = tiny_llama(seed=seed, attn_implementation="sdpa", **overrides)
    b = tiny_llama(seed=seed, attn_implementation="s2attn", **overrides)
    return a, b


def test_registered_and_eval_mode_logits_equal_sdpa():
    sdpa_model, s2_model = _models()
    assert s2_model.config._attn_implementation == "s2attn"
    ids = torch.randint(0, 300, (2, 64))
    with torch.no_grad():
        assert torch.equal(s2_model(ids).logits, sdpa_model(ids).logits)
        mask = torch.ones_like(ids)
        mask[1, :5] = 0  # left padding still works in eval mode (SDPA mask)
        torch.testing.assert_close(
            s2_model(ids, attention_mask=mask).logits, sdpa_model(ids, attention_mask=mask).logits
        )


def test_eval_mode_generation_with_kv_cache():
    sdpa_model, s2_model = _models()
    ids = torch.randint(0, 300, (1, 12))
    a = sdpa_model.generate(ids, max_new_tokens=6, do_sample=False)
    b = s2_model.generate(ids, max_new_tokens=6, do_sample=False)
    assert torch.equal(a, b)


def test_training_mode_uses_s2attn_and_backends_agree():
    _, model = _models()
    model = model.double().train()
    ids = torch.randint(0, 300, (1, 64))
    losses = {}
    for backend in ("sdpa", "reference"):
        with s2attn.use_backend(backend):
            model.zero_grad()
            loss = model(ids, labels=ids).loss
            loss.backward()
            losses[backend] = (loss.detach(), [p.grad.clone() for p in model.parameters()])
    torch.testing.assert_close(losses["sdpa"][0], losses["reference"][0], atol=1e-10, rtol=1e-8)
    for a, b in zip(losses["sdpa"][1], losses["reference"][1]):
        torch.testing.assert_close(a, b, atol=1e-10, rtol=1e-8)
    with torch.no_grad():
        sparse = model(ids).logits
        with s2attn.use_mode("full"):
            full = model(ids).logits
    assert not torch.allclose(sparse, full)  # training mode really is sparse


def test_training_mode_rejects_padding_and_kv_cache():
    _, model = _models()
    model.train()
    ids = torch.randint(0, 300, (1, 16))
    mask = torch.ones_like(ids)
    mask[0, :3] = 0
    with pytest.raises(ValueError, match="unpadded"):
        model(ids, attention_mask=mask)
