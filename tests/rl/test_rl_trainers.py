"""PPO (per decision) and GRPO (closed loop) raise the reward on a toy environment whose observation names
the right action, without collapsing onto one action; PPO resumes from its checkpoint."""

import os

import pytest
import torch
from adactx.rl.episodes import EnvPool
from adactx.rl.train_config import GRPOTrainConfig, PPOTrainConfig
from adactx.rl.training import Checkpoints, build_policy
from toy_policy import GRAMMAR, CueEnv, format_pretrained_llama, toy_tokenizer

from adactx.errors import AdactxError

CASES = list(range(16))


def shares(row: dict) -> dict:
    return {k.split("/")[1]: v for k, v in row.items() if k.startswith("actions/")}


def mean(rows, key="rollout/return"):
    return sum(r.get(key, 0.0) for r in rows) / len(rows)


def ppo_parts(cfg):
    from adactx.rl.ppo import PPOParts, build_value_model
    from transformers import LlamaConfig, LlamaForSequenceClassification

    torch.manual_seed(0)
    tok = toy_tokenizer()
    base = format_pretrained_llama(tok)
    policy, tok = build_policy(cfg, base=base, tokenizer=tok)
    value_cfg = LlamaConfig(**{**base.config.to_dict(), "num_labels": 1, "pad_token_id": tok.pad_token_id})
    value = build_value_model(cfg, model=LlamaForSequenceClassification(value_cfg))
    return PPOParts(EnvPool(CueEnv), CASES, policy, tok, value)


def test_ppo_learns_to_read_the_cue_and_resumes(tmp_path):
    from adactx.rl.ppo import train_ppo

    torch.set_num_threads(1)
    # lr 5e-3 over 6 iterations, not 1e-2 over 5: at 1e-2 a CI machine saw the policy collapse onto
    # `retrieve` (return 0.67 at the last iteration) where this one learned the cue
    cfg = PPOTrainConfig(output_dir=str(tmp_path), grammar=GRAMMAR, base_model="toy", learning_rate=5e-3,
                         iterations=6, episodes_per_iteration=64, per_device_train_batch_size=32,
                         num_ppo_epochs=4, kl_coef=0.0, max_new_tokens=2, value_learning_rate=1e-2,
                         train_value_backbone=True, report_to=("tensorboard",))
    parts = ppo_parts(cfg)
    history = train_ppo(cfg, parts, progress=False)["history"]
    first, last = history[0], history[-2:]
    # one fixed action earns 1.0 per episode; only reading the cue earns more (up to 2.0)
    assert mean(last) > max(first["rollout/return"] + 0.5, 1.2), history
    for row in last:
        assert min(shares(row).get("retrieve", 0), shares(row).get("extend", 0)) > 0.2, row  # no collapse
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(tmp_path / "runs"))
    assert (tmp_path / "policy" / "policy.json").is_file()

    from dataclasses import replace

    ckpt = Checkpoints(tmp_path)
    assert ckpt.state()["iteration"] == 6
    (tmp_path / "checkpoint.tmp").mkdir()  # a kill mid-write leaves a partial directory behind
    resumed = train_ppo(replace(cfg, iterations=7), ppo_parts(cfg), progress=False)["history"]
    assert [r["iteration"] for r in resumed] == list(range(7))
    assert resumed[:6] == history  # the first six came from the checkpointed run, not a rerun


def test_ppo_kl_reference_is_the_policy_after_its_format_warm_up(tmp_path):
    """The warm-up trains PPO's own adapter: against the adapter-free base PPO would pay KL for it from the
    first batch; against the policy as PPO starts (the default) the first rollout's KL is zero."""
    from dataclasses import replace

    from adactx.rl.ppo import train_ppo

    torch.set_num_threads(1)
    common = {"grammar": GRAMMAR, "base_model": "toy", "learning_rate": 5e-3, "iterations": 1,
              "episodes_per_iteration": 8, "per_device_train_batch_size": 8, "num_ppo_epochs": 1,
              "max_new_tokens": 2, "format_warmup_steps": 5}
    start = PPOTrainConfig(output_dir=str(tmp_path / "start"), **common)
    base = PPOTrainConfig(output_dir=str(tmp_path / "base"), kl_reference="base", **common)
    kl_start = train_ppo(start, ppo_parts(start), progress=False)["history"][0]["ppo/kl"]
    kl_base = train_ppo(base, ppo_parts(base), progress=False)["history"][0]["ppo/kl"]
    assert abs(kl_start) < 1e-3 and kl_base > 0.05, (kl_start, kl_base)

    from adactx.rl.ppo import kl_reference
    from safetensors.torch import load_file

    ckpt = Checkpoints(tmp_path / "start")
    saved = ckpt.latest() / "reference.safetensors"
    reference, trained = load_file(str(saved)), load_file(str(ckpt.latest() / "policy.safetensors"))
    assert any(not torch.equal(reference[n], trained[n]) for n in reference)  # the policy moved on, not it
    rebuilt = kl_reference(start, ppo_parts(start).policy, ckpt, 1)[1]  # what a resumed run measures against
    assert rebuilt.keys() == reference.keys() and all(torch.equal(rebuilt[n], reference[n]) for n in reference)
    assert len(train_ppo(replace(start, iterations=2), ppo_parts(start), progress=False)["history"]) == 2
    saved.unlink()
    with pytest.raises(AdactxError, match="kl_reference base"):
        train_ppo(replace(start, iterations=3), ppo_parts(start), progress=False)
    with pytest.raises(AdactxError, match="kl_reference"):
        PPOTrainConfig(kl_reference="warm")


def test_grpo_closed_loop_learns_to_read_the_cue(tmp_path):
    from adactx.rl.grpo import GRPOParts, train_grpo

    torch.set_num_threads(1)
    torch.manual_seed(0)
    cfg = GRPOTrainConfig(output_dir=str(tmp_path), grammar=GRAMMAR, base_model="toy", learning_rate=1e-2,
                          max_steps=30, per_device_train_batch_size=32, num_generations=8, max_new_tokens=2,
                          max_completion_length=64, logging_dir=str(tmp_path / "tb"))
    tok = toy_tokenizer()
    policy, tok = build_policy(cfg, base=format_pretrained_llama(tok), tokenizer=tok)
    out = train_grpo(cfg, GRPOParts(EnvPool(CueEnv), CASES, policy, tok), progress=False)
    history = out["history"]
    first, last = history[:5], history[-5:]
    assert mean(last) > max(mean(first) + 0.4, 1.2), [round(r["rollout/return"], 2) for r in history]
    assert min(mean(last, "actions/retrieve"), mean(last, "actions/extend")) > 0.2  # no collapse
    assert max(r["rollout/decisions_per_episode"] for r in last) > 1.5  # closed loop: two turns an episode
    assert os.path.isfile(os.path.join(out["policy_dir"], "policy.json"))
    assert any(name.startswith("events.out.tfevents") for name in os.listdir(tmp_path / "tb"))  # logging_dir


def test_value_layers_keep_the_bases_first_layers_and_train_only_the_head(tmp_path):
    from adactx.rl.ppo import build_value_model
    from helpers import save_tiny_model
    from transformers import AutoModelForCausalLM

    path = save_tiny_model(tmp_path / "base", num_hidden_layers=3)
    base = AutoModelForCausalLM.from_pretrained(path)
    full = build_value_model(PPOTrainConfig(), base_path=path)
    short = build_value_model(PPOTrainConfig(value_layers=1), base_path=path)
    assert (full.config.num_hidden_layers, short.config.num_hidden_layers) == (3, 1) and len(short.model.layers) == 1
    assert torch.equal(short.model.layers[0].self_attn.q_proj.weight, base.model.layers[0].self_attn.q_proj.weight)
    assert {n for n, p in short.named_parameters() if p.requires_grad} == {"score.weight"}
    with pytest.raises(AdactxError, match="value_layers"):
        PPOTrainConfig(value_layers=0)
