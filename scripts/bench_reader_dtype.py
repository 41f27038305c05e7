"""Benchmark: the bundled reader's speed in float32 vs bfloat16 on this machine's CPU.

    OMP_NUM_THREADS=1 .venv/bin/python scripts/bench_reader_dtype.py [--tokens 1024] [--decode 16] [--repeats 2]

Prints, measured side by side in one run (both dtypes loaded from the same cached weights, random token
ids): the prefill time of ``--tokens`` tokens and the time per decoded token with the KV cache, each the
best of ``--repeats``, and the bf16 / fp32 ratios. The ratio is what decides ``--dtype auto`` on CPU
(``adactx.reader.resolve_dtype``): PyTorch emulates bf16 matmuls on CPUs without AVX512-BF16 or AMX.
"""

from __future__ import annotations

import argparse
import time


def _best(fn, repeats: int) -> float:
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return min(times)


def measure(dtype: str, n_tokens: int, n_decode: int, repeats: int) -> tuple[float, float]:
    """(prefill seconds, seconds per decoded token) for the bundled reader loaded in ``dtype``."""
    import torch

    from adactx.reader import load_reader

    model = load_reader(dtype=dtype, device="cpu").model
    ids = torch.randint(100, 20000, (1, n_tokens), generator=torch.Generator().manual_seed(0))

    def prefill():
        return model(ids, use_cache=True)

    def decode():
        cache = model(ids[:, :64], use_cache=True).past_key_values
        for _ in range(n_decode):
            cache = model(torch.tensor([[5]]), past_key_values=cache, use_cache=True).past_key_values

    with torch.inference_mode():
        prefill_s = _best(prefill, repeats)
        decode_s = _best(decode, repeats) / n_decode  # includes one 64-token prefill: small
    return prefill_s, decode_s


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--tokens", type=int, default=1024)
    parser.add_argument("--decode", type=int, default=16)
    parser.add_argument("--repeats", type=int, default=2)
    args = parser.parse_args()
    import torch

    print(f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), "
          f"CPU capability {torch.backends.cpu.get_cpu_capability()}")
    rows = {dtype: measure(dtype, args.tokens, args.decode, args.repeats) for dtype in ("float32", "bfloat16")}
    print(f"| dtype | prefill {args.tokens} tokens (s) | per decoded token (ms) |")
    print("|---|---|---|")
    for dtype, (prefill_s, decode_s) in rows.items():
        print(f"| {dtype} | {prefill_s:.2f} | {decode_s * 1000:.0f} |")
    (p32, d32), (p16, d16) = rows["float32"], rows["bfloat16"]
    print(f"bf16 / fp32: prefill {p16 / p32:.2f}x, decode {d16 / d32:.2f}x")


if __name__ == "__main__":
    main()
