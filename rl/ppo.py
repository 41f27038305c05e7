"""`adactx train ppo`: TRL's PPOTrainer trains an LM context policy, one decision per PPO sample.

    summary = train_ppo(PPOTrainConfig(output_dir="runs/ppo", iterations=20))   # real env, SmolLM2 + LoRA
    summary = train_ppo(cfg, parts=PPOParts(pool, examples, policy, tokenizer, value_model))  # tests: toy

How a multi-step episode becomes PPO samples (per decision; docs/policies.md says why): each outer
iteration rolls out the current policy (sampling) on ``episodes_per_iteration`` training examples through
the memoized environment; every decision it met becomes a PPO query (the observation text). TRL's
``PPOTrainer`` then samples its own response to each query and scores it with :class:`EnvReturnReward`:
the environment replays the decisions that led to the query, runs the response's action, and lets the
current policy finish the episode greedily (``decision_return = "answer"``: it answers at once); the score
is the return from that decision on (its step cost, the continuation's costs and the final task score,
minus the penalty of an unparseable response), less the state's mean over the grammar's actions when
``state_baseline`` is set.

TRL pieces: policy = ``PeftModel`` (LoRA) passed with ``peft_config=None``; the KL reference is a frozen,
merged copy of the policy as PPO starts (after the format warm-up, which trains the same adapter;
``kl_reference = "base"``: TRL's default under PEFT, the same model with the adapter disabled); value
model = a sequence-classification head on the base; one AdamW with two learning rates carried across
iterations (``optimizers=(opt, None)``, constant schedule); CPU, fp32.
TensorBoard through ``report_to`` under ``logging_dir`` (default ``out/runs``; TRL's metrics plus rollout return, action shares, tokens per episode,
decisions per hour, memo hit rate); ``out/history.jsonl`` also keeps TRL's per-iteration KL, score, value loss
and entropy; ``out/checkpoint`` after every iteration (atomic; resumes).
"""

from __future__ import annotations

import copy
import gc
import os
import random
from collections.abc import Callable
from dataclasses import dataclass
from types import SimpleNamespace
from typing import Any, ClassVar

from adactx.rl.episodes import EnvPool, Episode, Job, action_counts, play
from adactx.rl.lm_policy import LMPolicy, query_ids
from adactx.rl.train_config import PPOTrainConfig
from adactx.rl.training import (
    Checkpoints,
    Throughput,
    load_optimizer,
    load_trainable,
    point_tensorboard,
    policy_meta,
    progress_bar,
    save_optimizer,
    save_trainable,
    trainable_tensors,
    warm_up_if_asked,
)

from adactx.errors import AdactxError


# --- the reward TRL calls ---------------------------------------------------------------------------
class DecisionReturns:
    """Token ids of (query + response) -> the environment's return from that decision on.

    ``continuation``: who finishes the episode after the response's action — ``"policy"`` (``respond``,
    the current policy, greedily) or ``"answer"`` (it answers at once: one step of lookahead, the same for
    every policy, so a decision is never scored by what a drifting policy would do next). ``baseline``:
    subtract the state's mean return over the grammar's actions, each played out the same way (a baseline
    that depends on the state only, so the policy gradient stays unbiased; it takes out how hard the
    example is, which the 0.13 spread of the task score over examples otherwise puts into every sample).
    """

    def __init__(self, pool: EnvPool, tokenizer, respond: Callable[[list[str]], list[str]],
                 grammar: tuple[str, ...], penalty: float, continuation: str = "policy", baseline: bool = False):
        self.pool, self.tokenizer, self.respond = pool, tokenizer, respond
        self.grammar, self.penalty = grammar, penalty
        self.continuation, self.baseline = continuation, baseline
        self.states: dict[tuple[int, ...], tuple[int, Any, list[str]]] = {}
        self.baselines: dict[tuple[int, ...], float] = {}
        self.played: list[Episode] = []  # the episodes PPO's own samples started (action-share metrics)

    def register(self, ids: list[int], example_index: int, example: Any, before: list[str]) -> None:
        """The query ``ids`` is reached by playing the responses ``before`` on ``example``."""
        self.states[tuple(ids)] = (example_index, example, list(before))

    def clear(self) -> None:
        self.states.clear()
        self.baselines.clear()
        self.played.clear()

    def split(self, ids: list[int]) -> tuple[tuple[int, ...], list[int]]:
        """(registered query ids, response ids): the longest registered prefix is the query."""
        for cut in range(len(ids), 0, -1):
            if tuple(ids[:cut]) in self.states:
                return tuple(ids[:cut]), ids[cut:]
        raise AdactxError("PPO reward: a query that no rollout registered (the dataset and the reward disagree)")

    def _play(self, queries: list[tuple[int, ...]], responses: list[str]) -> list[Episode]:
        after = ["answer"] if self.continuation == "answer" else []
        jobs = []
        for query, response in zip(queries, responses):
            index, example, before = self.states[query]
            jobs.append(Job(index, example, forced=[*before, response, *after], record_from=len(before)))
        return play(self.pool, jobs, self.respond, self.grammar, self.penalty)

    def state_baselines(self, queries: list[tuple[int, ...]]) -> list[float]:
        """Each query's mean return over the grammar's actions (computed once per query)."""
        todo = [q for q in dict.fromkeys(queries) if q not in self.baselines]
        if todo:
            episodes = self._play([q for q in todo for _ in self.grammar], [a for _ in todo for a in self.grammar])
            for k, query in enumerate(todo):
                group = episodes[k * len(self.grammar):(k + 1) * len(self.grammar)]
                self.baselines[query] = sum(ep.turns[0].ret for ep in group) / len(group)
        return [self.baselines[q] for q in queries]

    def __call__(self, rows: list[list[int]]) -> list[float]:
        queries, responses = [], []
        for ids in rows:
            query, response_ids = self.split(ids)
            queries.append(query)
            responses.append(self.tokenizer.decode(response_ids, skip_special_tokens=True))
        episodes = self._play(queries, responses)
        self.played.extend(episodes)
        returns = [ep.turns[0].ret if ep.turns else 0.0 for ep in episodes]
        if self.baseline:
            returns = [r - b for r, b in zip(returns, self.state_baselines(queries))]
        return returns


def _reward_module(returns: Callable[[list[list[int]]], list[float]], pad_id: int):
    import torch
    from torch import nn

    class ReturnBackbone(nn.Module):
        """Decodes each row's non-pad ids, asks the environment, returns the score as hidden states."""

        def forward(self, input_ids, attention_mask, **_):
            rows = [ids[mask.bool()].tolist() for ids, mask in zip(input_ids, attention_mask)]
            values = torch.tensor(returns(rows), dtype=torch.float32)
            hidden = values[:, None, None].expand(input_ids.shape[0], input_ids.shape[1], 1)  # (B, T, 1)
            return SimpleNamespace(hidden_states=(hidden.clone(),))

    class EnvReturnReward(nn.Module):
        """TRL's reward-model contract: ``getattr(m, m.base_model_prefix)(...)`` then ``m.score(h[-1])``."""

        base_model_prefix = "backbone"

        def __init__(self):
            super().__init__()
            self.backbone = ReturnBackbone()
            self.score = nn.Identity()
            self.pad_id = pad_id

    return EnvReturnReward()


def env_return_reward(returns: DecisionReturns, pad_id: int):
    """The module ``PPOTrainer(reward_model=...)`` calls; its score is exactly ``returns(ids)``."""
    return _reward_module(returns, pad_id)


# --- models and trainer -----------------------------------------------------------------------------
def build_value_model(cfg: PPOTrainConfig, base_path=None, model=None):
    """A scalar head on the base LM (``AutoModelForSequenceClassification``, one label); with
    ``cfg.value_layers`` only the base's first N layers (the value is read off the last non-pad token of
    the query + response, so it needs far less depth than the policy; each of PPO's value forwards then
    costs N / all of a policy forward)."""
    import torch
    from transformers import AutoConfig, AutoModelForSequenceClassification

    from adactx.reader import resolve_model

    if model is None:
        path = base_path or resolve_model(cfg.base_model)
        config = AutoConfig.from_pretrained(path, num_labels=1)
        if cfg.value_layers is not None:
            config.num_hidden_layers = min(cfg.value_layers, config.num_hidden_layers)
        model = AutoModelForSequenceClassification.from_pretrained(path, config=config, dtype=torch.float32)
    for name, param in model.named_parameters():
        param.requires_grad = cfg.train_value_backbone or name.startswith("score")
    return model


def _optimizer(cfg: PPOTrainConfig, policy, value_model):
    import torch

    groups = [
        {"params": [p for p in policy.parameters() if p.requires_grad], "lr": cfg.learning_rate},
        {"params": [p for p in value_model.parameters() if p.requires_grad], "lr": cfg.value_learning_rate},
    ]
    return torch.optim.AdamW(groups, lr=cfg.learning_rate)


def _ppo_args(cfg: PPOTrainConfig, n_queries: int):
    from trl.experimental.ppo import PPOConfig

    return PPOConfig(
        output_dir=os.path.join(cfg.output_dir, "trl"),
        per_device_train_batch_size=cfg.per_device_train_batch_size,
        gradient_accumulation_steps=1,
        num_mini_batches=cfg.num_mini_batches,
        num_ppo_epochs=cfg.num_ppo_epochs,
        local_rollout_forward_batch_size=cfg.per_device_train_batch_size,
        total_episodes=n_queries,
        response_length=cfg.max_new_tokens,
        stop_token="eos",
        temperature=cfg.temperature,
        kl_coef=cfg.kl_coef,
        cliprange=cfg.cliprange,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type="constant",
        use_cpu=True,
        bf16=False,
        gradient_checkpointing=False,
        num_sample_generations=0,
        save_strategy="no",
        logging_steps=cfg.logging_steps,
        report_to=cfg.report_to,
        disable_tqdm=True,
        seed=cfg.seed,
    )


def _trainer_class():
    from trl.experimental.ppo import PPOTrainer

    class ContextPPOTrainer(PPOTrainer):
        """PPOTrainer whose log steps continue across iterations and carry the rollout metrics."""

        step_offset = 0
        extra_metrics: ClassVar[dict] = {}

        def log(self, logs, start_time=None):
            saved = self.state.global_step
            self.state.global_step = saved + self.step_offset
            try:
                super().log({**logs, **self.extra_metrics}, start_time)
            finally:
                self.state.global_step = saved

    return ContextPPOTrainer


def _make_trainer(cfg, parts, reward_model, reference, optimizer, queries: list[list[int]], step_offset: int,
                  extra: dict):
    from datasets import Dataset
    from transformers.trainer_callback import PrinterCallback

    trainer = _trainer_class()(
        args=_ppo_args(cfg, len(queries)),
        processing_class=parts.tokenizer,
        model=parts.policy,
        ref_model=reference,
        reward_model=reward_model,
        train_dataset=Dataset.from_dict({"input_ids": queries}),
        value_model=parts.value_model,
        optimizers=(optimizer, None),
        peft_config=None,
    )
    trainer.remove_callback(PrinterCallback)
    trainer.step_offset, trainer.extra_metrics = step_offset, extra
    return trainer


# --- the outer loop -----------------------------------------------------------------------------------
@dataclass
class PPOParts:
    """What training needs besides the config (built from it by ``build_ppo_parts``, or by tests)."""

    pool: EnvPool
    examples: list
    policy: Any  # PeftModel
    tokenizer: Any
    value_model: Any
    memo_stats: Callable[[], dict] | None = None


def build_ppo_parts(cfg: PPOTrainConfig) -> PPOParts:
    from adactx.rl.training import build_environment, build_policy

    pool, examples, memo_stats = build_environment(cfg)
    policy, tokenizer = build_policy(cfg)
    return PPOParts(pool, examples, policy, tokenizer, build_value_model(cfg), memo_stats)


def rollout_queries(cfg, parts: PPOParts, returns: DecisionReturns, live: LMPolicy, it: int):
    """Roll the current policy out on this iteration's examples; register every decision as a query."""
    rng = random.Random(cfg.seed * 100_003 + it)
    picks = [rng.randrange(len(parts.examples)) for _ in range(cfg.episodes_per_iteration)]
    jobs = [Job(i, parts.examples[i]) for i in picks]
    respond = lambda texts: live.respond(texts, sample=True, temperature=cfg.temperature)
    episodes = play(parts.pool, jobs, respond, cfg.grammar, cfg.invalid_penalty)
    returns.clear()
    queries = []
    for ep in episodes:
        before = []
        for turn in ep.turns:
            ids = query_ids(parts.tokenizer, turn.query)
            returns.register(ids, ep.job.example_index, ep.job.example, before)
            queries.append(ids)
            before.append(turn.response)
    batch = cfg.per_device_train_batch_size
    rng.shuffle(queries)
    while len(queries) < batch:  # too few decisions for one batch: repeat them
        queries += queries[: batch - len(queries)]
    return episodes, queries[: len(queries) - len(queries) % batch]


def rollout_metrics(episodes: list[Episode], trained: list[Episode], meter: Throughput, memo_stats) -> dict:
    """Rollout return, action shares, tokens per episode, parse rate, throughput, memo hit rate."""
    counts = action_counts(episodes)
    n_turns = max(sum(counts.values()), 1)
    metrics = {
        "rollout/return": sum(ep.total for ep in episodes) / max(len(episodes), 1),
        "rollout/decisions_per_episode": n_turns / max(len(episodes), 1),
        "rollout/tokens_per_episode": sum(ep.info.get("tokens_computed", 0) for ep in episodes)
        / max(len(episodes), 1),
        "rollout/parse_rate": 1.0 - counts.get("unparsed", 0) / n_turns,
        "throughput/decisions_per_hour": meter.per_hour(),
    }
    metrics.update({f"actions/{name}": n / n_turns for name, n in sorted(counts.items())})
    trained_counts = action_counts([Episode(ep.job, ep.turns[:1]) for ep in trained])  # PPO's samples
    n_trained = max(sum(trained_counts.values()), 1)
    metrics.update({f"ppo_actions/{k}": v / n_trained for k, v in sorted(trained_counts.items())})
    if memo_stats is not None:
        metrics["throughput/memo_hit_rate"] = memo_stats()["hit_rate"]
    return metrics


TRL_METRICS = {"objective/kl": "ppo/kl", "objective/non_score_reward": "ppo/kl_term", "objective/scores": "ppo/score",
               "loss/value_avg": "ppo/value_loss", "policy/entropy_avg": "ppo/entropy"}


def trl_metrics(log_history: list[dict]) -> dict:
    """The iteration's mean of TRL's KL (nats per response), KL term, score, value loss and entropy."""
    out = {}
    for key, name in TRL_METRICS.items():
        values = [row[key] for row in log_history if key in row]
        if values:
            out[name] = sum(values) / len(values)
    return out


def kl_reference(cfg: PPOTrainConfig, policy, ckpt: Checkpoints, start: int):
    """(reference model or None, its adapter tensors or None): what PPO's KL penalty is measured against.

    ``kl_reference = "start"`` with a format warm-up: a frozen copy of the policy as PPO starts, the adapter
    merged in (the warm-up trains the same adapter, so the adapter-free base would charge PPO for the
    warm-up from its first batch); its tensors go into every checkpoint, so a resumed run keeps the same
    reference. Otherwise None: TRL disables the adapter (the base, equal to the start without a warm-up)."""
    if cfg.kl_reference == "base" or cfg.format_warmup_steps == 0:
        return None, None
    reference = copy.deepcopy(policy)  # the adapter as PPO starts; on resume, as the checkpoint kept it
    if start > 0:
        path = ckpt.latest() / "reference.safetensors"
        if not path.is_file():
            raise AdactxError(f"{path}: missing (the checkpoint predates kl_reference = 'start'); "
                              "resume it with --kl_reference base")
        load_trainable(reference, path)
    tensors = trainable_tensors(reference)
    reference = reference.merge_and_unload().eval()
    reference.requires_grad_(False)
    return reference, tensors


def _resume(ckpt: Checkpoints, parts: PPOParts, optimizer) -> tuple[int, int]:
    path = ckpt.latest()
    if path is None:
        return 0, 0
    state = ckpt.state()
    load_trainable(parts.policy, path / "policy.safetensors")
    load_trainable(parts.value_model, path / "value.safetensors")
    load_optimizer(optimizer, path / "optimizer.pt")
    ckpt.reset_history(state["iteration"])
    return state["iteration"], state["global_step"]


def _save(ckpt: Checkpoints, parts: PPOParts, optimizer, iteration: int, global_step: int,
          reference: dict | None) -> None:
    def fill(tmp):
        save_trainable(parts.policy, tmp / "policy.safetensors")
        save_trainable(parts.value_model, tmp / "value.safetensors")
        save_optimizer(optimizer, tmp / "optimizer.pt")
        if reference is not None:
            from safetensors.torch import save_file

            save_file({n: t.contiguous() for n, t in reference.items()}, str(tmp / "reference.safetensors"))

    ckpt.write(fill, {"iteration": iteration, "global_step": global_step})


def train_ppo(cfg: PPOTrainConfig, parts: PPOParts | None = None, progress: bool = True,
              echo: Callable[[str], None] = print) -> dict:
    """Train (or resume) into ``cfg.output_dir``; returns the learning curve and the policy directory."""
    import torch

    parts = parts or build_ppo_parts(cfg)
    gc.freeze()  # TRL's PPO calls gc.collect() thrice per batch: skip the long-lived heap (1.5 s each here)
    ckpt = Checkpoints(cfg.output_dir)
    point_tensorboard(cfg)
    optimizer = _optimizer(cfg, parts.policy, parts.value_model)
    start, global_step = _resume(ckpt, parts, optimizer)
    if start == 0:
        loss = warm_up_if_asked(cfg, parts.policy, parts.tokenizer, parts.pool, parts.examples)
        if loss is not None:
            echo(f"format warm-up: {cfg.format_warmup_steps} steps, last loss {loss:.3f}")
    reference, reference_tensors = kl_reference(cfg, parts.policy, ckpt, start)
    live = LMPolicy(parts.policy, parts.tokenizer, policy_meta(cfg, "ppo", multi_turn=False))
    returns = DecisionReturns(parts.pool, parts.tokenizer, live.respond, cfg.grammar, cfg.invalid_penalty,
                              cfg.decision_return, cfg.state_baseline)
    reward_model = env_return_reward(returns, parts.tokenizer.pad_token_id)
    meter, bar = Throughput(), progress_bar(cfg.iterations, start, "ppo") if progress else None
    for it in range(start, cfg.iterations):
        torch.manual_seed(cfg.seed * 7919 + it)
        episodes, queries = rollout_queries(cfg, parts, returns, live, it)
        extra = rollout_metrics(episodes, [], meter, parts.memo_stats)
        trainer = _make_trainer(cfg, parts, reward_model, reference, optimizer, queries, global_step, extra)
        trainer.train()
        global_step += trainer.state.global_step
        meter.add(len(queries))
        row = {"iteration": it, "global_step": global_step, "queries": len(queries),
               **rollout_metrics(episodes, returns.played, meter, parts.memo_stats),
               **trl_metrics(trainer.state.log_history)}
        ckpt.append(row)
        _save(ckpt, parts, optimizer, it + 1, global_step, reference_tensors)
        if bar is not None:
            bar.update(1)
            bar.set_postfix(ret=f"{row['rollout/return']:.3f}", dph=f"{row['throughput/decisions_per_hour']:.0f}")
        else:
            echo(_line(row))
    if bar is not None:
        bar.close()
    policy_dir = live.save(os.path.join(cfg.output_dir, "policy"))
    return {"history": ckpt.history(), "policy_dir": str(policy_dir), "decisions_per_hour": meter.per_hour()}


def _line(row: dict) -> str:
    keys = ("rollout/return", "rollout/parse_rate", "throughput/decisions_per_hour", "throughput/memo_hit_rate")
    parts = [f"{k.split('/')[-1]}={row[k]:.3f}" for k in keys if k in row]
    return f"iteration {row['iteration']}: " + " ".join(parts)


__all__ = ["DecisionReturns", "PPOParts", "build_ppo_parts", "build_value_model", "env_return_reward", "kl_reference",
           "train_ppo", "trl_metrics"]
