"""Benchmark one LongLoRA training step with S²-Attn vs full attention, side by side.

    python scripts/bench_s2attn.py                                   # CPU: SmolLM2-135M shape, 2k-16k
    python scripts/bench_s2attn.py --lengths 2048,4096 --threads 2 --repeats 2
    python scripts/bench_s2attn.py --attention-only --lengths 2048,4096,8192,16384,32768   # kernel alone
    python scripts/bench_s2attn.py --shape 1b --lengths 8192,16384,32768 --device cuda   # GPU, flash-attn

One step = forward + backward of the step `adactx train longlora` runs (frozen weights in bf16, LoRA
r=8 on q/k/v/o + trainable embeddings/norms in fp32, bf16 autocast, gradient checkpointing, sliced
loss), on a model with random weights. "full" is the same step with plain causal attention (SDPA on
CPU; flash-attn 2 on GPU when installed), "s2" uses S²-Attn (SDPA on CPU, flash-attn varlen on GPU).

Every (length, attention) cell runs in a fresh subprocess so peak memory is its own: on CPU the peak
resident set size above the baseline measured just before the step; on GPU torch's peak allocation.
Cells alternate full/s2 within each length so both see the same machine load. On CPU the table
compares process CPU time (with --threads 1 it is the compute the step needs, unaffected by other
jobs preempting it on a shared machine; wall time is printed per cell too). Prints a table with
the s2/full ratios and, with --out, writes JSON.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time

SHAPES = {
    # SmolLM2-135M: 30 layers, hidden 576, 9 heads, 3 KV heads, vocab 49152
    "135m": {"hidden_size": 576, "intermediate_size": 1536, "num_hidden_layers": 30, "num_attention_heads": 9,
             "num_key_value_heads": 3, "vocab_size": 49152, "rope_theta": 100000.0},
    # TinyLlama-1.1B shape: 22 layers, hidden 2048, 32 heads, 4 KV heads, vocab 32000
    "1b": {"hidden_size": 2048, "intermediate_size": 5632, "num_hidden_layers": 22, "num_attention_heads": 32,
           "num_key_value_heads": 4, "vocab_size": 32000, "rope_theta": 10000.0},
}


def build(shape: str, attention: str, length: int, device: str):
    import torch
    from adactx.kernels import s2attn
    from adactx.kernels.lora import add_longlora_adapter
    from transformers import LlamaConfig, LlamaForCausalLM

    s2attn.register()
    full = "flash_attention_2" if device == "cuda" and _has_flash() else "sdpa"
    params = dict(SHAPES[shape])
    rope_theta = params.pop("rope_theta")
    config = LlamaConfig(
        **params, max_position_embeddings=max(length, 2048), tie_word_embeddings=True,
        rope_parameters={"rope_type": "default", "rope_theta": rope_theta},
    )
    config._attn_implementation = "s2attn" if attention == "s2" else full
    torch.manual_seed(0)
    model = LlamaForCausalLM(config).to(torch.bfloat16)
    model.config.use_cache = False
    model.activation_checkpointing_enable(activation_checkpointing_kwargs={"use_reentrant": False})
    model = add_longlora_adapter(model)
    for p in model.parameters():
        if p.requires_grad:
            p.data = p.data.float()
    return model.to(device).train()


def _has_flash() -> bool:
    from adactx.optional import HAS_FLASH_ATTN

    return HAS_FLASH_ATTN


def one_step(model, input_ids):
    from adactx.kernels.train import training_loss

    loss = training_loss(model, input_ids, "bfloat16")
    loss.backward()
    model.zero_grad(set_to_none=True)
    return float(loss.detach())


def attention_cell(args) -> dict:
    """Attention alone (one layer's q/k/v of the shape, forward + backward): isolates the kernel."""
    import torch
    from adactx.kernels import s2attn

    shape = SHAPES[args.shape]
    heads, kv_heads = shape["num_attention_heads"], shape["num_key_value_heads"]
    head_dim = shape["hidden_size"] // heads
    dtype = torch.bfloat16

    def qkv(length):
        g = torch.Generator(device=args.device).manual_seed(0)
        make = lambda h: torch.randn(1, h, length, head_dim, generator=g, device=args.device,
                                     dtype=dtype, requires_grad=True)
        return make(heads), make(kv_heads), make(kv_heads)

    def step(q, k, v):
        if args.attention == "s2":
            out = s2attn.s2_attention(q, k, v)
        else:
            out = torch.nn.functional.scaled_dot_product_attention(q, k, v, is_causal=True, enable_gqa=True)
        out.float().square().mean().backward()

    step(*qkv(256))
    q, k, v = qkv(args.length)
    base = _rss_now()
    start, cpu_start = time.perf_counter(), time.process_time()
    step(q, k, v)
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    return {"length": args.length, "attention": args.attention, "seconds": seconds, "cpu_seconds": cpu,
            "peak_bytes": max(peak, 0)}


def cell(args) -> dict:
    """Run in a subprocess: build, warm up at a short length, time one step at ``args.length``."""
    import torch

    if args.threads:
        torch.set_num_threads(args.threads)
    if args.attention_only:
        return attention_cell(args)
    device = args.device
    model = build(args.shape, args.attention, args.length, device)
    vocab = model.config.vocab_size
    one_step(model, torch.randint(0, vocab, (1, 256), device=device))  # warm-up (kernels, allocator)
    ids = torch.randint(0, vocab, (1, args.length), device=device)
    if device == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
    else:
        base = _rss_now()
    start, cpu_start = time.perf_counter(), time.process_time()
    one_step(model, ids)
    if device == "cuda":
        torch.cuda.synchronize()
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu_start
    if device == "cuda":
        peak = torch.cuda.max_memory_allocated() - base
    else:
        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base
    return {"length": args.length, "attention": args.attention, "seconds": seconds, "cpu_seconds": cpu,
            "peak_bytes": max(peak, 0)}


def _rss_now() -> int:
    with open("/proc/self/statm") as fh:
        return int(fh.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def run_cell(args, length: int, attention: str) -> dict:
    cmd = [sys.executable, __file__, "--cell", "--length", str(length), "--attention", attention,
           "--shape", args.shape, "--device", args.device]
    if args.threads:
        cmd += ["--threads", str(args.threads)]
    if args.attention_only:
        cmd += ["--attention-only"]
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise SystemExit(f"cell {length}/{attention} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lengths", default="2048,4096,8192,16384")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="135m")
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--threads", type=int, default=None)
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--out", default=None)
    parser.add_argument("--attention-only", action="store_true",
                        help="Time one layer's attention (forward + backward) instead of the whole step.")
    parser.add_argument("--cell", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--length", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--attention", choices=("full", "s2"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.cell:
        print(json.dumps(cell(args)))
        return

    lengths = [int(x) for x in args.lengths.split(",")]
    rows = []
    for length in lengths:
        cells = {"full": [], "s2": []}
        for r in range(args.repeats):
            order = ("full", "s2") if r % 2 == 0 else ("s2", "full")
            for attention in order:
                result = run_cell(args, length, attention)
                cells[attention].append(result)
                print(f"  {length:>6} {attention:>4}: {result['seconds']:.1f} s wall, "
                      f"{result['cpu_seconds']:.1f} s CPU, "
                      f"peak +{result['peak_bytes'] / 2**20:.0f} MiB", file=sys.stderr, flush=True)
        key = "cpu_seconds" if args.device == "cpu" else "seconds"  # CPU time: robust to a shared machine
        full_s = min(c[key] for c in cells["full"])
        s2_s = min(c[key] for c in cells["s2"])
        full_m = min(c["peak_bytes"] for c in cells["full"])
        s2_m = min(c["peak_bytes"] for c in cells["s2"])
        rows.append({"length": length, "cells": cells, "full_s": full_s, "s2_s": s2_s, "speedup": full_s / s2_s,
                     "full_peak_mib": full_m / 2**20, "s2_peak_mib": s2_m / 2**20,
                     "memory_ratio": s2_m / full_m if full_m else float("nan")})
    what = "one layer's attention (fwd+bwd)" if args.attention_only else "one LongLoRA training step"
    print(f"{what}, {args.shape} shape, device {args.device}, threads {args.threads}, "
          f"best of {args.repeats}; {'process CPU' if args.device == 'cpu' else 'wall'} seconds")
    print(f"{'length':>7} {'full s':>8} {'S2 s':>8} {'speed-up':>9} {'full MiB':>9} {'S2 MiB':>8} {'S2/full mem':>11}")
    for r in rows:
        print(f"{r['length']:>7} {r['full_s']:>8.1f} {r['s2_s']:>8.1f} {r['speedup']:>8.2f}x "
              f"{r['full_peak_mib']:>9.0f} {r['s2_peak_mib']:>8.0f} {r['memory_ratio']:>11.2f}")
    if args.out:
        with open(args.out, "w") as fh:
            json.dump({"what": what, "shape": args.shape, "device": args.device, "threads": args.threads,
                       "repeats": args.repeats, "rows": rows}, fh, indent=2)


if __name__ == "__main__":
    main()
