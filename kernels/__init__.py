"""adactx.kernels: LongLoRA for the reader -- attention math, position interpolation, LoRA wiring.

The top-level folder ``kernels/`` is installed as the package ``adactx.kernels`` (pyproject's package-dir
mapping), so ``kernels/s2attn.py`` is ``adactx.kernels.s2attn``.

    s2groups.py      S²-Attn's grouping (group bounds, shifted heads, GQA heads), shared by every path
    s2attn.py        S²-Attn: pure-torch reference, SDPA fast path, ``attn_implementation="s2attn"``
    flash.py         S²-Attn on flash-attn's varlen kernel (CUDA, ``pip install 'adactx[gpu]'``)
    position.py      linear position interpolation through ``config.rope_parameters``
    lora.py          LoRA r=8/alpha=16 on q/k/v/o + trainable embeddings and norms (PEFT); load merged
    loss.py          next-token NLL a slice at a time (no full-vocab logits at 16k tokens)
    train_config.py  ``LongLoRATrainConfig`` (fields with help, validated)
    train.py         ``train_longlora``: build, pack data, train with checkpoints, resume, save adapter
    sft_config.py    ``SFTTrainConfig`` (TrainingArguments-style names, composes ``SFTDataConfig``)
    sft.py           ``train_sft``: LongLoRA SFT of the reader in its own prompt layout, answer-only loss
    evaluate.py      sliding-window perplexity, passkey retrieval

Imports only adactx core modules; nothing heavy at import time of this package.
"""
