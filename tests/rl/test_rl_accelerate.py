"""Training through `accelerate launch` (TRL's own multi-process path): two CPU processes, one policy."""

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

SCRIPT = Path(__file__).with_name("accelerate_train.py")


@pytest.mark.slow
def test_grpo_trains_data_parallel_in_two_cpu_processes(tmp_path):
    """`accelerate launch --multi_gpu --num_processes 2` on a CPU-only machine: torchrun starts two processes,
    the trainer's ``use_cpu=True`` joins them with gloo; both end with the same trained weights."""
    out = tmp_path / "grpo"
    env = {**os.environ, "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    cmd = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
           "--main_process_port", str(_free_port()), str(SCRIPT), "--out", str(out)]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    ranks = [json.loads((out / f"rank-{r}.json").read_text()) for r in (0, 1)]
    assert [r["rank"] for r in ranks] == [0, 1] and all(r["processes"] == 2 for r in ranks)
    assert {r["backend"] for r in ranks} == {"gloo"} and all(r["steps"] == 3 for r in ranks)
    assert ranks[0]["weights"] == ranks[1]["weights"] != ranks[0]["weights_before"]  # trained, in sync
    assert (out / "policy" / "policy.json").is_file()  # written once, by the main process


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]
