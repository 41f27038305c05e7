"""`adactx train grpo`: TRL's GRPOTrainer with a closed-loop ``rollout_func`` over the same environment.

    summary = train_grpo(GRPOTrainConfig(output_dir="runs/grpo", iterations=50, num_generations=4))
    summary = train_grpo(cfg, parts=GRPOParts(pool, examples, policy, tokenizer))   # tests: the toy env

Each dataset row is a training example's first observation (a chat prompt). TRL repeats it
``num_generations`` times and hands the batch to :func:`closed_loop_rollout`, which plays every row to the
end: sample an action, run it, append the next observation as a user turn, repeat until the episode ends.
The completion is the whole conversation after the prompt; the observation tokens carry ``env_mask = 0``
so only the policy's own tokens are trained. The reward is the episode's return (``env_return``, passed
to the reward function as an extra column), so advantages are relative within each example's group.
The saved policy is ``multi_turn``: at inference it keeps the episode's conversation, as in training.

Logging: TensorBoard via ``report_to`` under ``logging_dir`` (default ``out/runs``; TRL's reward/KL/entropy plus action shares, tokens per episode,
turns per episode, decisions per hour, memo hit rate); HF's progress bar with ETA; checkpoints every
``save_steps`` (TRL/HF ``checkpoint-N``; the newest complete one resumes).
"""

from __future__ import annotations

import gc
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, ClassVar

from adactx.rl.episodes import EnvPool, Episode, Job, action_counts, take_action
from adactx.rl.lm_policy import LMPolicy, chat_text, generate_ids
from adactx.rl.train_config import GRPOTrainConfig
from adactx.rl.training import Throughput, point_tensorboard, policy_meta, warm_up_if_asked

from adactx.errors import AdactxError


@dataclass
class GRPOParts:
    pool: EnvPool
    examples: list
    policy: Any  # PeftModel
    tokenizer: Any
    memo_stats: Callable[[], dict] | None = None


def turn_suffix(tokenizer, text: str) -> str:
    """The chat text between the policy's EOS and its next turn: the next observation as a user turn."""
    first = [{"role": "user", "content": "Q"}, {"role": "assistant", "content": "A"}]
    before = chat_text(tokenizer, first, generation_prompt=False)
    after = chat_text(tokenizer, [*first, {"role": "user", "content": text}])
    if not after.startswith(before):
        raise AdactxError("the policy's chat template does not extend a conversation by appending turns")
    closing = before[before.rindex("A") + 1 :]
    closing = closing.removeprefix(tokenizer.eos_token)
    return closing + after[len(before) :]


@dataclass
class _Row:
    job: Job
    env: Any
    prompt_ids: list[int]
    text: str
    completion: list[int]
    mask: list[int]
    episode: Episode


def _start_rows(parts: GRPOParts, prompts: list, states: dict) -> list[_Row]:
    tok, rows = parts.tokenizer, []
    envs = parts.pool.take(len(prompts))
    for env, prompt in zip(envs, prompts):
        content = prompt[-1]["content"]
        if content not in states:
            raise AdactxError("GRPO rollout: a prompt the dataset did not register")
        index, example = states[content]
        job = Job(index, example)
        text = env.reset(example)
        ids = tok(chat_text(tok, [{"role": "user", "content": text}]), add_special_tokens=False).input_ids
        rows.append(_Row(job, env, ids, text, [], [], Episode(job)))
    return rows


def _advance(row: _Row, new_ids: list[int], cfg: GRPOTrainConfig, tok) -> bool:
    """Run the sampled action; append the next observation (env_mask 0). True while the episode lives."""
    response = tok.decode(new_ids, skip_special_tokens=True)
    row.completion += new_ids
    row.mask += [1] * len(new_ids)
    text, done, turn = take_action(row.env, row.text, response, cfg.grammar, cfg.invalid_penalty)
    row.episode.turns.append(turn)
    if done:
        row.episode.info = row.env.episode_info()
        return False
    env_ids = [] if new_ids and new_ids[-1] == tok.eos_token_id else [tok.eos_token_id]
    env_ids += tok(turn_suffix(tok, text), add_special_tokens=False).input_ids
    row.completion += env_ids
    row.mask += [0] * len(env_ids)
    row.text = text
    return True


def closed_loop_rollout(parts: GRPOParts, cfg: GRPOTrainConfig, states: dict, model, prompts: list) -> dict:
    """Play one episode per prompt row (lockstep batches); TRL's rollout_func result."""
    from adactx.rl.episodes import MAX_TURNS

    tok = parts.tokenizer
    rows = _start_rows(parts, prompts, states)
    live = list(range(len(rows)))
    for _ in range(MAX_TURNS):
        if not live:
            break
        contexts = [rows[i].prompt_ids + rows[i].completion for i in live]
        new = generate_ids(model, tok, contexts, cfg.max_new_tokens, sample=True, temperature=cfg.temperature)
        live = [i for i, ids in zip(live, new) if _advance(rows[i], ids, cfg, tok)]
    for i in live:  # safety net: stop what is still running
        _advance(rows[i], tok("answer", add_special_tokens=False).input_ids, cfg, tok)
    for row in rows:
        _fill(row.episode)
    return {
        "prompt_ids": [r.prompt_ids for r in rows],
        "completion_ids": [r.completion for r in rows],
        "logprobs": None,
        "env_mask": [r.mask for r in rows],
        "env_return": [r.episode.total for r in rows],
        "episode": [r.episode for r in rows],
    }


def _fill(episode: Episode) -> None:
    ret = 0.0
    for turn in reversed(episode.turns):
        ret += turn.reward
        turn.ret = ret


def env_return(completions, env_return, **_) -> list[float]:
    """The reward function: the environment's return of the episode each completion played."""
    return [float(r) for r in env_return]


def prompt_dataset(parts: GRPOParts, tokenizer=None):
    """One chat prompt per training example (its first observation) and the text -> example map."""
    from datasets import Dataset

    env = parts.pool.take(1)[0]
    states, prompts = {}, []
    for i, example in enumerate(parts.examples):
        text = env.reset(example)  # the next reset drops this unfinished episode
        states.setdefault(text, (i, example))
        prompts.append([{"role": "user", "content": text}])
    return Dataset.from_dict({"prompt": prompts}), states


def _grpo_args(cfg: GRPOTrainConfig):
    from trl import GRPOConfig

    return GRPOConfig(
        output_dir=cfg.output_dir,
        per_device_train_batch_size=cfg.per_device_train_batch_size,
        num_generations=cfg.num_generations,
        max_completion_length=cfg.max_completion_length,
        max_steps=cfg.max_steps,
        gradient_accumulation_steps=cfg.gradient_accumulation_steps,
        learning_rate=cfg.learning_rate,
        lr_scheduler_type="constant_with_warmup" if cfg.warmup_steps else "constant",
        warmup_steps=cfg.warmup_steps,
        beta=cfg.beta,
        temperature=cfg.temperature,
        use_cpu=True,
        bf16=False,
        gradient_checkpointing=False,
        logging_steps=cfg.logging_steps,
        save_strategy="steps",
        save_steps=cfg.save_steps or max(1, cfg.max_steps // 10),
        save_total_limit=cfg.save_total_limit,
        report_to=cfg.report_to,
        seed=cfg.seed,
    )


def _trainer_class():
    from trl import GRPOTrainer

    class ContextGRPOTrainer(GRPOTrainer):
        """GRPOTrainer that adds the episode metrics of the last rollout to each log line."""

        extra_metrics: ClassVar[dict] = {}

        def log(self, logs, start_time=None):
            super().log({**logs, **self.extra_metrics}, start_time)

    return ContextGRPOTrainer


def _episode_metrics(episodes: list[Episode], meter: Throughput, memo_stats) -> dict:
    counts = action_counts(episodes)
    n = max(sum(counts.values()), 1)
    metrics = {
        "rollout/return": sum(e.total for e in episodes) / max(len(episodes), 1),
        "rollout/decisions_per_episode": n / max(len(episodes), 1),
        "rollout/tokens_per_episode": sum(e.info.get("tokens_computed", 0) for e in episodes) / max(len(episodes), 1),
        "rollout/parse_rate": 1.0 - counts.get("unparsed", 0) / n,
        "throughput/decisions_per_hour": meter.per_hour(),
        **{f"actions/{k}": v / n for k, v in sorted(counts.items())},
    }
    if memo_stats is not None:
        metrics["throughput/memo_hit_rate"] = memo_stats()["hit_rate"]
    return metrics


def build_grpo_parts(cfg: GRPOTrainConfig) -> GRPOParts:
    from adactx.rl.training import build_environment, build_policy

    pool, examples, memo_stats = build_environment(cfg)
    policy, tokenizer = build_policy(cfg)
    return GRPOParts(pool, examples, policy, tokenizer, memo_stats)


def train_grpo(cfg: GRPOTrainConfig, parts: GRPOParts | None = None, progress: bool = True) -> dict:
    """Train (or resume from the newest ``checkpoint-N``) into ``cfg.output_dir``."""
    from transformers.trainer_utils import get_last_checkpoint

    parts = parts or build_grpo_parts(cfg)
    gc.freeze()  # the trainers' gc.collect() calls then skip the long-lived heap
    point_tensorboard(cfg)
    dataset, states = prompt_dataset(parts)
    meter, history = Throughput(), []
    holder: dict = {}

    def rollout(prompts, trainer):
        model = trainer.accelerator.unwrap_model(trainer.model)
        out = closed_loop_rollout(parts, cfg, states, model, prompts)
        episodes = out.pop("episode")
        # the rate over the steps finished so far (rollout and training); this rollout's decisions count
        # from the next step on, once their training time has been spent too
        metrics = _episode_metrics(episodes, meter, parts.memo_stats)
        meter.add(sum(len(e.turns) for e in episodes))
        history.append({"step": len(history), **metrics})
        holder["trainer"].extra_metrics = metrics
        return out

    args = _grpo_args(cfg)
    args.disable_tqdm = not progress
    trainer = _trainer_class()(model=parts.policy, reward_funcs=[env_return], args=args, train_dataset=dataset,
                               processing_class=parts.tokenizer, rollout_func=rollout)
    holder["trainer"] = trainer
    last = get_last_checkpoint(cfg.output_dir) if os.path.isdir(cfg.output_dir) else None
    if last is None:
        warm_up_if_asked(cfg, parts.policy, parts.tokenizer, parts.pool, parts.examples)
    trainer.train(resume_from_checkpoint=last)
    live = LMPolicy(parts.policy, parts.tokenizer, policy_meta(cfg, "grpo", multi_turn=True))
    policy_dir = os.path.join(cfg.output_dir, "policy")
    if trainer.accelerator.is_main_process:  # under `accelerate launch`, one process writes the policy
        policy_dir = live.save(policy_dir)
    trainer.accelerator.wait_for_everyone()
    return {"history": history, "policy_dir": str(policy_dir), "decisions_per_hour": meter.per_hour()}


__all__ = ["GRPOParts", "build_grpo_parts", "closed_loop_rollout", "env_return", "train_grpo", "turn_suffix"]
