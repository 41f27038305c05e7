"""A toy environment and a tiny word-level LM for the policy-trainer tests (no downloads, milliseconds).

    tok = toy_tokenizer(); model = tiny_llama(len(tok))
    env = CueEnv(); env.reset(3) -> "case 3 step 0 do extend extend extend extend"; env.step(Action("extend")) -> (text, 1.0, False)

The right action is written in the observation ("do retrieve" or "do extend", the word repeated so a tiny
model can read it): +1 when the policy takes it, 0 otherwise. An episode has two decisions; answering (or
an unparseable response) ends it at once. Always taking one action earns 1 per episode, reading the cue
2. Many distinct prompts (the case number) make it learnable in a few dozen PPO / GRPO steps.
"""

from __future__ import annotations

from adactx.graphs.state import Action

CUES = ("retrieve", "extend")
GRAMMAR = ("retrieve 2", "extend 1024", "answer")
WORDS = ["system", "user", "assistant", "case", "step", "do", *CUES, "answer",
         *[str(i) for i in range(16)]]


def toy_tokenizer():
    from helpers import CHAT_TEMPLATE
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    specials = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "[UNK]"]
    vocab = {w: i for i, w in enumerate([*specials, *WORDS])}
    tok = Tokenizer(models.WordLevel(vocab, unk_token="[UNK]"))
    tok.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    fast = PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<|im_end|>", pad_token="<|endoftext|>",
                                   unk_token="[UNK]", bos_token="<|endoftext|>")
    fast.add_special_tokens({"additional_special_tokens": ["<|im_start|>"]})
    fast.chat_template = CHAT_TEMPLATE
    return fast


def cue(case: int, step: int) -> str:
    return CUES[(case + step + case // 4) % len(CUES)]


class CueEnv:
    """A TextEnv (``adactx.rl.episodes``): the observation names the right action."""

    def reset(self, case: int) -> str:
        self.case, self.step_i, self.last = int(case), 0, {}
        return self._text()

    def _text(self) -> str:
        word = cue(self.case, self.step_i)
        return f"case {self.case} step {self.step_i} do " + " ".join([word] * 8)

    def step(self, action: Action) -> tuple[str, float, bool]:
        reward = 1.0 if action.name == cue(self.case, self.step_i) else 0.0
        self.step_i += 1
        done = action.name == "answer" or self.step_i >= 2
        self.last = {"tokens_computed": self.step_i, "score": reward}
        return ("" if done else self._text()), reward, done

    def episode_info(self) -> dict:
        return self.last


def format_pretrained_llama(tok, hidden: int = 64, steps: int = 30, seed: int = 0):
    """A tiny LM that already answers in the grammar but ignores the cue: the toy's "instruct model".

    Supervised on random actions (uniform over the grammar's names, then EOS) for toy prompts, so it
    knows the format and none of the task, the way the real policy starts from an instruct model.
    """
    import random

    import torch
    from adactx.rl.lm_policy import prepare_tokenizer, query_ids
    from helpers import tiny_llama

    prepare_tokenizer(tok)
    model = tiny_llama(len(tok), hidden_size=hidden, intermediate_size=2 * hidden, initializer_range=0.1, seed=seed)
    names = [g.split()[0] for g in GRAMMAR]
    prompts = [query_ids(tok, f"case {c} step {s} do " + " ".join([w] * 8))
               for c in range(16) for s in range(2) for w in CUES]
    rng, opt = random.Random(seed), torch.optim.AdamW(model.parameters(), lr=1e-2)
    model.train()
    for _ in range(steps):
        targets = [tok.convert_tokens_to_ids(rng.choice(names)) for _ in prompts]
        ids = torch.tensor([p + [t, tok.eos_token_id] for p, t in zip(prompts, targets)])
        logits = model(input_ids=ids).logits[:, -3:-1]  # (B, 2, V): predicts the action, then EOS
        labels = ids[:, -2:]
        loss = torch.nn.functional.cross_entropy(logits.reshape(-1, logits.shape[-1]), labels.reshape(-1))
        opt.zero_grad()
        loss.backward()
        opt.step()
    return model.eval()
