"""A tiny training for `accelerate launch` (TRL's own multi-process path), run by test_rl_accelerate.py.

    python -m accelerate.commands.launch --multi_gpu --num_processes 2 tests/rl/accelerate_train.py --out DIR

(``--multi_gpu`` is accelerate's torchrun launcher; on a machine without GPUs the trainers' ``use_cpu=True``
makes it data-parallel over CPU processes with gloo. ``--cpu --num_processes 2`` starts only one process:
accelerate's CPU launcher runs several only through ``mpirun``, see docs/workers.md.)

Trains the toy closed-loop GRPO policy (``toy_policy``: a word-level tokenizer, a tiny random Llama, the
cue environment) for a few steps through adactx's ``train_grpo`` (TRL's ``GRPOTrainer``), or through
``train_ppo`` (TRL's ``PPOTrainer``). Each process then writes ``rank-K.json``: how many processes
accelerate saw, and a hash of its trainable weights (data-parallel training keeps them equal on every rank).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from pathlib import Path

sys.path[:0] = [str(Path(__file__).parent), str(Path(__file__).parents[1])]


def weights_hash(model) -> str:
    digest = hashlib.sha256()
    for name, param in sorted(model.named_parameters()):
        if param.requires_grad:
            digest.update(name.encode())
            digest.update(param.detach().float().cpu().numpy().tobytes())
    return digest.hexdigest()


def train(kind: str, out: str) -> tuple[object, str, list]:
    import torch
    from adactx.rl.episodes import EnvPool
    from adactx.rl.train_config import GRPOTrainConfig, PPOTrainConfig
    from adactx.rl.training import build_policy
    from toy_policy import GRAMMAR, CueEnv, format_pretrained_llama, toy_tokenizer

    torch.set_num_threads(1)
    torch.manual_seed(0)
    tok = toy_tokenizer()
    common = {"output_dir": out, "grammar": GRAMMAR, "base_model": "toy", "learning_rate": 1e-2,
              "max_new_tokens": 2, "report_to": ("none",)}
    if kind == "grpo":
        from adactx.rl.grpo import GRPOParts, train_grpo

        cfg = GRPOTrainConfig(**common, iterations=3, per_device_train_batch_size=8, num_generations=8,
                              max_completion_length=64)
        policy, tok = build_policy(cfg, base=format_pretrained_llama(tok), tokenizer=tok)
        before = weights_hash(policy)
        return policy, before, train_grpo(cfg, GRPOParts(EnvPool(CueEnv), list(range(16)), policy, tok),
                                          progress=False)["history"]
    from adactx.rl.ppo import train_ppo
    from test_rl_trainers import ppo_parts

    cfg = PPOTrainConfig(**common, iterations=2, episodes_per_iteration=16, per_device_train_batch_size=8,
                         num_ppo_epochs=1, kl_coef=0.0, value_learning_rate=1e-2)
    parts = ppo_parts(cfg)
    before = weights_hash(parts.policy)
    return parts.policy, before, train_ppo(cfg, parts, progress=False)["history"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", required=True)
    parser.add_argument("--trainer", default="grpo", choices=("grpo", "ppo"))
    args = parser.parse_args()
    from accelerate import PartialState

    policy, before, history = train(args.trainer, args.out)
    state = PartialState()  # the state the trainer set up (cpu=True: gloo across the processes)
    report = {"rank": state.process_index, "processes": state.num_processes, "steps": len(history),
              "weights_before": before, "weights": weights_hash(policy), "backend": str(state.backend)}
    Path(args.out, f"rank-{state.process_index}.json").write_text(json.dumps(report))


if __name__ == "__main__":
    main()
