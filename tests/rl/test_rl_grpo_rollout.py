"""GRPO's closed-loop rollout: policy tokens masked 1, observation tokens 0, the same conversation the
multi-turn LMPolicy builds at inference."""

import torch
from adactx.rl.episodes import EnvPool
from adactx.rl.grpo import GRPOParts, closed_loop_rollout, prompt_dataset
from adactx.rl.lm_policy import chat_text
from adactx.rl.train_config import GRPOTrainConfig
from adactx.rl.training import build_policy
from toy_policy import GRAMMAR, CueEnv, format_pretrained_llama, toy_tokenizer


def test_rollout_masks_environment_tokens_and_matches_the_chat_history():
    torch.manual_seed(0)
    cfg = GRPOTrainConfig(grammar=GRAMMAR, base_model="toy", max_new_tokens=2, num_generations=2,
                          per_device_train_batch_size=4, report_to=("none",))
    tok = toy_tokenizer()
    policy, tok = build_policy(cfg, base=format_pretrained_llama(tok, steps=10), tokenizer=tok)
    parts = GRPOParts(EnvPool(CueEnv), list(range(16)), policy, tok)
    dataset, states = prompt_dataset(parts)
    prompts = [p for p in dataset["prompt"][:3] for _ in range(2)]  # as TRL hands them: repeated
    out = closed_loop_rollout(parts, cfg, states, policy, prompts)
    episodes = out["episode"]
    assert len(out["completion_ids"]) == len(prompts) == len(out["env_return"])
    for i, episode in enumerate(episodes):
        ids, mask = out["completion_ids"][i], out["env_mask"][i]
        assert len(ids) == len(mask) and mask[0] == 1
        own = tok.decode([t for t, m in zip(ids, mask) if m], skip_special_tokens=True).split()
        assert own == " ".join(t.response for t in episode.turns).split()
        env_text = tok.decode([t for t, m in zip(ids, mask) if not m], skip_special_tokens=True)
        for turn in episode.turns[1:]:
            assert turn.query in env_text  # the next observation arrived as environment tokens
        assert out["env_return"][i] == sum(t.reward for t in episode.turns)
        messages = []
        for turn in episode.turns:
            messages += [{"role": "user", "content": turn.query}, {"role": "assistant", "content": turn.response}]
        history = tok(chat_text(tok, messages, generation_prompt=False), add_special_tokens=False).input_ids
        assert out["prompt_ids"][i] + ids == history[: len(out["prompt_ids"][i]) + len(ids)]
    assert any(len(e.turns) == 2 for e in episodes)
