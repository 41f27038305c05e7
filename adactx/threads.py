"""How many CPU threads torch may use for the reader and the encoder (`--threads` on ask, summarize, eval).

    set_threads(1)      # torch.set_num_threads(1): one core per process
    set_threads(0)      # leave torch's default (one thread per core)

Measured with ``scripts/bench_threads.py`` (`make demo`'s question, fresh process per run, conditions
interleaved; results in README "Threads"): on the shared 2-core box (load ~19) one thread took 280 s and
329 s, two threads 839 s and > 900 s, torch's default (2 there) 872 s: extra threads only wait for cores
other processes hold. That is why the default is 1.
"""

from __future__ import annotations

from adactx.errors import AdactxError

DEFAULT_THREADS = 1
MAX_THREADS = 1024
THREADS_HELP = (
    f"CPU threads for the reader and encoder (torch); 0 = torch's default of one per core. Default "
    f"{DEFAULT_THREADS}: fastest measured on a busy machine (see README, Threads)."
)


def set_threads(threads: int | None) -> int:
    """Apply ``threads`` (None: the default) to torch; returns the number now in force."""
    threads = DEFAULT_THREADS if threads is None else int(threads)
    if not 0 <= threads <= MAX_THREADS:
        raise AdactxError(f"--threads {threads}: use 0 (torch's default) or 1 to {MAX_THREADS}")
    import torch

    if threads:
        torch.set_num_threads(threads)
    return torch.get_num_threads()
