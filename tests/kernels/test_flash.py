"""The flash-attn varlen S²-Attn path against the reference (CUDA + flash-attn only)."""

from __future__ import annotations

import pytest
import torch

from adactx.optional import HAS_FLASH_ATTN, has_cuda, install_hint

pytestmark = pytest.mark.skipif(
    not (HAS_FLASH_ATTN and has_cuda()), reason=f"needs CUDA and flash-attn: {install_hint('flash_attn')}"
)


@pytest.mark.parametrize("seq_len", [64, 256, 1000, 4096])
@pytest.mark.parametrize("heads,kv_heads", [(8, 8), (9, 3), (32, 4)])
def test_flash_matches_reference(seq_len, heads, kv_heads):
    from adactx.kernels.flash import s2_attention_flash
    from adactx.kernels.s2attn import s2_attention_reference

    g = torch.Generator(device="cuda").manual_seed(0)
    shape = lambda h: (2, h, seq_len, 64)
    q = torch.randn(shape(heads), generator=g, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    k = torch.randn(shape(kv_heads), generator=g, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    v = torch.randn(shape(kv_heads), generator=g, device="cuda", dtype=torch.bfloat16, requires_grad=True)
    ref = s2_attention_reference(q.double(), k.double(), v.double())
    out = s2_attention_flash(q, k, v)
    torch.testing.assert_close(out.double(), ref, atol=2e-2, rtol=2e-2)
    grad = torch.randn_like(ref)
    ref_grads = torch.autograd.grad(ref, (q, k, v), grad)
    out_grads = torch.autograd.grad(out.double(), (q, k, v), grad)
    for a, b in zip(out_grads, ref_grads):
        torch.testing.assert_close(a.double(), b.double(), atol=5e-2, rtol=5e-2)


def test_model_trains_through_flash_path():
    from adactx.kernels import s2attn
    from helpers import tiny_llama

    s2attn.register()
    model = tiny_llama(attn_implementation="s2attn", head_dim=64, hidden_size=256, num_attention_heads=4)
    model = model.to("cuda", torch.bfloat16).train()
    ids = torch.randint(0, 300, (1, 256), device="cuda")
    with s2attn.use_backend("flash"):
        flash_loss = model(ids, labels=ids).loss
    with s2attn.use_backend("reference"):
        ref_loss = model(ids, labels=ids).loss
    torch.testing.assert_close(flash_loss, ref_loss, atol=2e-2, rtol=2e-2)
