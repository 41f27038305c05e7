"""What feature policies (and each of their checkpoints) do at the first step of an evaluation split.

    .venv/bin/python scripts/policy_first_actions.py runs/features-squality64-l0 --data squality:dev --n 100

For each training run directory (`adactx train features`: every checkpoints/step-N, then the final policy)
prints how often the deterministic policy takes each action at the first step, the mean probability of
each allowed action (softmax over the allowed actions' logits, as MaskablePPO samples in training) and the
range of the chosen action's probability across the examples. The first observation comes from the
environment the run trained in (its config.json: reader, encoder, [env], [reward]) over the examples
`adactx eval --data SPLIT --n N` plays (same order); only the prompt is prefilled, nothing is generated.
Use it to tell a policy that prefers an action from one whose argmax is a near tie, and to see whether any
checkpoint acts differently from the final policy before paying for an evaluation of it.
"""

from __future__ import annotations

import argparse
import collections
import json
import sys
from pathlib import Path

import numpy as np
from adactx.rl.features import FeaturePolicy
from adactx.rl.features_config import FeatureTrainConfig
from adactx.rl.safe_io import read_json

from adactx.errors import AdactxError


def first_observations(cfg: FeatureTrainConfig, data: str, n: int, seed: int) -> list:
    """The first observation of each of the `n` examples of `data`, in the training run's environment."""
    from adactx.rl.eval_config import EvalConfig
    from adactx.rl.eval_examples import load_examples
    from adactx.rl.features_train import build_env

    env, _ = build_env(
        cfg, lambda _, tokenizer: load_examples(EvalConfig(data=data, n=n, seed=seed), tokenizer)
    )
    observations = []
    for i in range(len(env.examples)):
        env.reset(options={"index": i})
        observations.append(env.observation)
    return observations


def describe(policy: FeaturePolicy, observations: list) -> str:
    """Argmax counts, mean allowed-action probabilities, and the chosen action's probability range."""
    probs = np.array([policy.probabilities(obs) for obs in observations])  # (examples, actions)
    chosen = collections.Counter(policy.actions[int(np.argmax(p))] for p in probs)
    top = policy.actions.index(chosen.most_common(1)[0][0])
    mean = "  ".join(f"{a} {m:.3f}" for a, m in zip(policy.actions, probs.mean(0)) if m > 0)
    counts = ", ".join(f"{a} {c}" for a, c in chosen.most_common())
    return f"argmax: {counts} | mean p: {mean} | p({policy.actions[top]}) {probs[:, top].min():.3f}–{probs[:, top].max():.3f}"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("runs", nargs="+", help="`adactx train features` output directories")
    parser.add_argument(
        "--data", required=True, help="evaluation split, e.g. squality:dev (never a test split to choose on)"
    )
    parser.add_argument(
        "--n", type=int, default=100, help="examples (the first n that `adactx eval --n` plays)"
    )
    parser.add_argument("--seed", type=int, default=0, help="the eval's example-order seed")
    args = parser.parse_args(argv)
    try:
        configs = {}
        for run in map(Path, args.runs):
            config = run / "config.json"
            if not config.is_file():
                raise AdactxError(
                    f"{config}: not found (is {run} an `adactx train features` output directory?)"
                )
            configs[run] = FeatureTrainConfig.from_dict(read_json(config))
        observations = {}
        for run, cfg in configs.items():
            key = json.dumps(
                [cfg.model, cfg.adapter, cfg.encoder, cfg.env.to_dict()], sort_keys=True, default=str
            )
            if key not in observations:
                observations[key] = first_observations(cfg, args.data, args.n, args.seed)
            points = sorted(run.glob("checkpoints/step-*"), key=lambda p: int(p.name.split("-")[1]))
            for directory in [*points, run / "policy"]:
                if (directory / "policy.json").is_file():
                    print(
                        f"{run.name} {directory.name}: {describe(FeaturePolicy.load(directory), observations[key])}"
                    )
    except AdactxError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
