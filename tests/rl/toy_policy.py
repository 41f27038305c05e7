"""A toy environment and a tiny word-level LM for the policy-trainer tests (no downloads, milliseconds).

    tok = toy_tokenizer(); model = tiny_llama(len(tok))
    env = CueEnv(); env.reset(3) -> "case 3 step 0 do extend extend extend extend"; env.step(Action("extend")) -> (text, 1.0, False)

The right action is written in the observation ("do NAME"): +1 when the policy takes it, 0 otherwise.
An episode has two decisions (answer ends it at once). Many distinct prompts (the case number) and a cue
a tiny model can copy make it learnable in a few dozen PPO / GRPO steps.
"""

from __future__ import annotations

from adactx.graphs.state import Action

CUES = ("retrieve", "extend", "answer")
GRAMMAR = ("retrieve 2", "extend 1024", "answer")
WORDS = ["system", "user", "assistant", "case", "step", "do", *CUES,
         *[str(i) for i in range(16)]]


def toy_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    from helpers import CHAT_TEMPLATE

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
    return CUES[(case * 7 + step * 5 + case // 3) % len(CUES)]


class CueEnv:
    """A TextEnv (``adactx.rl.episodes``): the observation names the right action."""

    def reset(self, case: int) -> str:
        self.case, self.step_i, self.last = int(case), 0, {}
        return self._text()

    def _text(self) -> str:
        word = cue(self.case, self.step_i)
        return f"case {self.case} step {self.step_i} do {word} {word} {word} {word}"

    def step(self, action: Action) -> tuple[str, float, bool]:
        reward = 1.0 if action.name == cue(self.case, self.step_i) else 0.0
        self.step_i += 1
        done = action.name == "answer" or self.step_i >= 2
        self.last = {"tokens_computed": self.step_i, "score": reward}
        return ("" if done else self._text()), reward, done

    def episode_info(self) -> dict:
        return self.last
