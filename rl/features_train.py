"""Train the feature policy: sb3-contrib ``MaskablePPO`` on ``ContextEnv``'s vector observation and masks.

    cfg = FeatureTrainConfig.from_file("configs/features_mixed.toml")
    result = train_features(cfg)                      # -> {"policy": "runs/features/policy", ...}
    # or on any env with the same spaces and action_masks() (tests hand in a toy env):
    result = train_features(cfg, env=my_env)

Output directory:
    config.json                   the resolved FeatureTrainConfig
    runs/features_N/              TensorBoard (``report_to``; ``logging_dir`` moves it; sb3's logger: reward,
                                  losses, entropy; adactx/*: decisions per hour, memo hit rate, action
                                  shares, tokens and score per episode)
    checkpoints/step-N/           a learned policy directory (policy.json + model.safetensors: usable as
                                  ``learned:.../step-N``) plus trainer.safetensors (actor and critic),
                                  optimizer.safetensors + optimizer.json and trainer_state.json (no
                                  pickle anywhere); written to a temporary name and renamed, so a kill -9
                                  leaves the previous checkpoint intact. Running the same command resumes.
    policy/                       the final learned policy directory
    throughput.json               decisions, decisions per hour, memo hits and misses of this invocation
    curve.jsonl                   one line per rollout: mean return / score / tokens / steps of the episodes
                                  that finished in it, decisions per hour, memo hit rate, action shares

The reward is the environment's own (``adactx.rl.rewards``: task score − λ · tokens computed / 1000); the
reader is wrapped in the on-disk memo (``adactx.rl.memo``) so episodes that revisit a context are free.
"""

from __future__ import annotations

import json
import shutil
import time
from collections import Counter
from dataclasses import asdict
from pathlib import Path

import numpy as np
import torch
from adactx.rl.features import FeaturePolicy, explicit_actions
from adactx.rl.features_config import FeatureTrainConfig

from adactx.errors import AdactxError

HELD_OUT = ("val", "dev", "validation", "test")


def training_examples(cfg: FeatureTrainConfig, tokenizer) -> list:
    """The training examples: train splits only (hyperparameters are chosen on val, results on test)."""
    from adactx.data.registry import load, parse_spec

    dataset, split = parse_spec(cfg.data)
    if split in HELD_OUT:
        raise AdactxError(f"FeatureTrainConfig.data: {cfg.data!r} is a held-out split; train on a train split")
    if dataset.name == "mixed":
        from adactx.data.mixed import MixedConfig, mixed_suite

        return mixed_suite(MixedConfig(lengths=cfg.mixed_lengths), tokenizer, split=split, n=cfg.n, seed=cfg.seed)
    return load(cfg.data, n=cfg.n, seed=cfg.seed, tokenizer=tokenizer)


def build_env(cfg: FeatureTrainConfig, examples_for=training_examples):
    """The memoized real environment over ``examples_for(cfg, tokenizer)`` (default: the training examples)
    -> (env, memo)."""
    from adactx.retrieval.encoders import load_encoder
    from adactx.rl.env import ContextEnv, Workspace
    from adactx.rl.memo import MemoReader, OutcomeMemo

    from adactx.reader import cache_dir, load_reader

    base = load_reader(cfg.model, adapter=cfg.adapter)
    memo = OutcomeMemo(cfg.memo_path or cache_dir() / "memo.sqlite")
    reader = MemoReader(base, memo)
    examples = examples_for(cfg, base.tokenizer)
    workspace = Workspace(reader, load_encoder(cfg.encoder), cfg.env, cache_dir())
    return ContextEnv(examples, reader, cfg.env, cfg.reward, workspace=workspace), memo


def make_model(cfg: FeatureTrainConfig, vec_env, tb_dir: Path | None):
    from sb3_contrib import MaskablePPO

    activation = {"tanh": torch.nn.Tanh, "relu": torch.nn.ReLU}[cfg.activation]
    hidden = list(cfg.hidden)
    return MaskablePPO(
        "MlpPolicy", vec_env, learning_rate=cfg.learning_rate, n_steps=cfg.n_steps,
        batch_size=cfg.per_device_train_batch_size,
        n_epochs=cfg.n_epochs, gamma=cfg.gamma, gae_lambda=cfg.gae_lambda, clip_range=cfg.clip_range,
        ent_coef=cfg.ent_coef, seed=cfg.seed, device="cpu", verbose=0,
        tensorboard_log=str(tb_dir) if tb_dir else None,
        policy_kwargs={"net_arch": {"pi": hidden, "vf": hidden}, "activation_fn": activation},
    )


def policy_meta(cfg: FeatureTrainConfig, timesteps: int) -> dict:
    return {"kind": "features", "lambda": cfg.reward.lam, "reward": asdict(cfg.reward),
            "hidden": list(cfg.hidden), "activation": cfg.activation, "trained_on": cfg.data, "n": cfg.n,
            "timesteps": int(timesteps), "seed": cfg.seed, "trainer": "sb3_contrib.MaskablePPO",
            "reader_adapter": cfg.adapter}


# --- checkpoints (no pickle) ----------------------------------------------------------------------
def save_checkpoint(model, cfg: FeatureTrainConfig, out: Path, counters: dict) -> Path:
    """Write checkpoints/step-N atomically (temp dir, then rename) and keep the newest few."""
    from safetensors.torch import save_file

    root = out / "checkpoints"
    final = root / f"step-{model.num_timesteps}"
    tmp = root / f".tmp-step-{model.num_timesteps}"
    shutil.rmtree(tmp, ignore_errors=True)
    FeaturePolicy.from_sb3(model, cfg.env, policy_meta(cfg, model.num_timesteps)).save(tmp)
    state = {k: v.detach().cpu().contiguous().clone() for k, v in model.policy.state_dict().items()}
    save_file(state, str(tmp / "trainer.safetensors"))
    save_optimizer(model.policy.optimizer, tmp)
    trainer_state = {"num_timesteps": int(model.num_timesteps), "n_updates": int(model._n_updates), **counters}
    (tmp / "trainer_state.json").write_text(json.dumps(trainer_state, indent=2) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
    for old in checkpoints(out)[: -cfg.save_total_limit]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def save_optimizer(optimizer, directory: Path) -> None:
    """Adam's state as safetensors (per-parameter tensors) + JSON (hyperparameters): no pickle."""
    from safetensors.torch import save_file

    state = optimizer.state_dict()
    tensors = {f"{i}.{name}": value.detach().cpu().contiguous().clone().reshape(value.shape)
               for i, slots in state["state"].items() for name, value in slots.items()}
    save_file(tensors, str(directory / "optimizer.safetensors"))
    (directory / "optimizer.json").write_text(json.dumps(state["param_groups"], indent=2) + "\n")


def load_optimizer(optimizer, directory: Path) -> None:
    from safetensors.torch import load_file

    slots: dict[int, dict] = {}
    for key, value in load_file(str(directory / "optimizer.safetensors")).items():
        index, name = key.split(".", 1)
        slots.setdefault(int(index), {})[name] = value
    groups = json.loads((directory / "optimizer.json").read_text())
    optimizer.load_state_dict({"state": slots, "param_groups": groups})


def checkpoints(out: Path) -> list[Path]:
    """Complete checkpoints, oldest first."""
    root = out / "checkpoints"
    found = [p for p in root.glob("step-*") if (p / "trainer_state.json").is_file()] if root.is_dir() else []
    return sorted(found, key=lambda p: int(p.name.split("-")[1]))


def load_checkpoint(model, path: Path) -> dict:
    """Fill ``model`` from a checkpoint directory; returns its trainer_state.json."""
    from safetensors.torch import load_file

    model.policy.load_state_dict(load_file(str(path / "trainer.safetensors")))
    load_optimizer(model.policy.optimizer, path)
    state = json.loads((path / "trainer_state.json").read_text())
    model.num_timesteps = int(state["num_timesteps"])
    model._n_updates = int(state.get("n_updates", 0))
    return state


# --- training -------------------------------------------------------------------------------------
def train_features(cfg: FeatureTrainConfig, env=None, memo=None, progress: bool = True, log=print) -> dict:
    """Train (or resume) into ``cfg.output_dir``; returns paths, throughput and the last rollout's stats."""
    from sb3_contrib.common.wrappers import ActionMasker  # noqa: F401  (sb3-contrib present: clear error early)
    from stable_baselines3.common.monitor import Monitor
    from stable_baselines3.common.vec_env import DummyVecEnv

    out = Path(cfg.output_dir)
    out.mkdir(parents=True, exist_ok=True)
    (out / "config.json").write_text(json.dumps(cfg.to_dict(), indent=2, default=list) + "\n")
    if env is None:
        env, memo = build_env(cfg)
    _check_env(env, cfg)
    vec_env = DummyVecEnv([lambda: Monitor(env)])
    vec_env.seed(cfg.seed)
    model = make_model(cfg, vec_env, cfg.tensorboard_dir())
    resumed = checkpoints(out)[-1] if checkpoints(out) else None
    previous = load_checkpoint(model, resumed) if resumed else {}
    start = model.num_timesteps
    if resumed:
        log(f"resuming from {resumed} ({start} decisions done)")
    watch = TrainWatch(cfg, out, memo, start, log, episodes_before=int(previous.get("episodes", 0)))
    remaining = max(cfg.total_timesteps - start, 0)
    if remaining:
        model.learn(total_timesteps=remaining, callback=watch.callback(), progress_bar=progress,
                    log_interval=cfg.logging_steps,
                    reset_num_timesteps=resumed is None, tb_log_name="features")
    if not checkpoints(out) or checkpoints(out)[-1].name != f"step-{model.num_timesteps}":
        save_checkpoint(model, cfg, out, watch.counters())
    policy_dir = FeaturePolicy.from_sb3(model, cfg.env, policy_meta(cfg, model.num_timesteps)).save(out / "policy")
    summary = {"policy": str(policy_dir), "actions": explicit_actions(cfg.env), **watch.throughput(model.num_timesteps)}
    if summary["decisions"] or not (out / "throughput.json").exists():  # a finalizing rerun keeps the last numbers
        (out / "throughput.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _check_env(env, cfg: FeatureTrainConfig) -> None:
    from adactx.rl.features import observation_dim

    if env.observation_space.shape != (observation_dim(),):
        raise AdactxError(f"env observation shape {env.observation_space.shape} != ({observation_dim()},)")
    if env.action_space.n != len(cfg.env.actions):
        raise AdactxError(f"env has {env.action_space.n} actions; FeatureTrainConfig.env.actions has "
                          f"{len(cfg.env.actions)}")
    if not hasattr(env, "action_masks"):
        raise AdactxError("env: MaskablePPO needs an action_masks() method")


class TrainWatch:
    """What a person watching training sees: TensorBoard scalars, a line per rollout, safe checkpoints."""

    def __init__(self, cfg: FeatureTrainConfig, out: Path, memo, start: int, log, episodes_before: int = 0):
        self.cfg, self.out, self.memo, self.start, self.log = cfg, out, memo, start, log
        self.t0 = time.perf_counter()
        self.memo0 = (memo.hits, memo.misses) if memo is not None else (0, 0)
        self.actions: Counter = Counter()
        self.episodes: list[dict] = []
        self.last_saved = start
        self.episodes_before = episodes_before
        self.rollout_from = 0  # index in self.episodes of the current rollout's first finished episode
        self.trim_curve(start)

    def trim_curve(self, start: int) -> None:
        """On resume, drop the curve.jsonl lines of rollouts after the checkpoint (they are played again)."""
        path = self.out / "curve.jsonl"
        if path.is_file():
            rows = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
            kept = [line for line in rows if json.loads(line).get("decisions", 0) <= start]
            if len(kept) != len(rows):
                path.write_text("".join(line + "\n" for line in kept), encoding="utf-8")

    def callback(self):
        from stable_baselines3.common.callbacks import BaseCallback

        watch = self

        class _Callback(BaseCallback):
            def _on_step(self) -> bool:
                watch.on_step(self.locals)
                return True

            def _on_rollout_start(self) -> None:  # after the previous rollout's update: a consistent state
                watch.maybe_save(self.model)

            def _on_rollout_end(self) -> None:
                watch.on_rollout_end(self.model)

        return _Callback()

    def on_step(self, local: dict) -> None:
        specs = self.cfg.env.actions
        for action in np.asarray(local["actions"]).reshape(-1):
            self.actions[specs[int(action)]] += 1
        for info in local["infos"]:
            if "episode" in info:  # Monitor's episode summary; the env's outcome when it has one
                o = info.get("outcome") or {}
                self.episodes.append({"return": float(info["episode"]["r"]), "steps": int(info["episode"]["l"]),
                                      "score": o.get("score", np.nan),
                                      "tokens": o.get("usage", {}).get("tokens_computed", np.nan)})

    def memo_lookups(self) -> tuple[int, int]:
        if self.memo is None:
            return 0, 0
        return self.memo.hits - self.memo0[0], self.memo.misses - self.memo0[1]

    def throughput(self, timesteps: int) -> dict:
        elapsed = time.perf_counter() - self.t0
        decisions = timesteps - self.start
        hits, misses = self.memo_lookups()
        return {"decisions": decisions, "total_decisions": timesteps, "seconds": round(elapsed, 1),
                "decisions_per_hour": round(decisions / elapsed * 3600, 1) if elapsed > 0 else 0.0,
                "memo_hits": hits, "memo_misses": misses,
                "memo_hit_rate": round(hits / (hits + misses), 4) if hits + misses else None}

    def counters(self) -> dict:
        return {"episodes": self.episodes_before + len(self.episodes)}

    def on_rollout_end(self, model) -> None:
        rate = self.throughput(model.num_timesteps)
        recent = self.episodes[-200:]
        logger = model.logger
        logger.record("adactx/decisions_per_hour", rate["decisions_per_hour"])
        if rate["memo_hit_rate"] is not None:
            logger.record("adactx/memo_hit_rate", rate["memo_hit_rate"])
        total = sum(self.actions.values()) or 1
        for spec in self.cfg.env.actions:
            logger.record(f"adactx/action_share/{spec}", self.actions[spec] / total)
        line = f"decisions {model.num_timesteps}/{self.cfg.total_timesteps}  {rate['decisions_per_hour']:.0f}/h"
        if recent:
            stats = {k: float(np.mean([e[k] for e in recent])) for k in ("return", "score", "tokens", "steps")}
            stats = {k: v for k, v in stats.items() if np.isfinite(v)}
            for key, value in stats.items():
                logger.record(f"adactx/episode_{key}", value)
            line += "  " + "  ".join(f"{k} {v:.3f}" if k != "tokens" else f"tokens/ep {v:.0f}"
                                     for k, v in stats.items())
        if rate["memo_hit_rate"] is not None:
            line += f"  memo hit rate {rate['memo_hit_rate']:.0%}"
        self.log(line + "  actions " + " ".join(f"{k}:{v / total:.0%}" for k, v in self.actions.items()))
        self.append_curve(model.num_timesteps, rate, {k: v / total for k, v in self.actions.items()})
        self.actions.clear()

    def append_curve(self, timesteps: int, rate: dict, shares: dict) -> None:
        """One line per rollout in OUTPUT_DIR/curve.jsonl: the means over the episodes that finished in
        this rollout only (the learning curve; TensorBoard's episode_* scalars are a 200-episode window)."""
        done, self.rollout_from = self.episodes[self.rollout_from :], len(self.episodes)
        row = {"decisions": int(timesteps), "episodes": len(done), "memo_hit_rate": rate["memo_hit_rate"],
               "decisions_per_hour": rate["decisions_per_hour"], "actions": shares}
        for key in ("return", "score", "tokens", "steps"):
            values = [e[key] for e in done if np.isfinite(e[key])]
            row[key] = float(np.mean(values)) if values else None
        with (self.out / "curve.jsonl").open("a", encoding="utf-8") as fh:
            fh.write(json.dumps(row) + "\n")

    def maybe_save(self, model) -> None:
        if model.num_timesteps - self.last_saved >= self.cfg.save_steps:
            save_checkpoint(model, self.cfg, self.out, self.counters())
            self.last_saved = model.num_timesteps


__all__ = ["build_env", "checkpoints", "save_checkpoint", "train_features", "training_examples"]
