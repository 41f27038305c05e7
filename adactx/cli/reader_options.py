"""The command-line options that choose the reader, shared by `ask`, `summarize`, `eval` and `trace resume`.

    adactx ask doc.txt "Q?" --device cuda                               # the bundled model on a GPU
    adactx ask doc.txt "Q?" --reader openai --base-url http://127.0.0.1:8080/v1 --model smollm2

``spec(...)`` turns them into an :class:`adactx.reader_spec.ReaderSpec` (validated: a missing
``--base-url`` is a one-line error before anything loads).
"""

from __future__ import annotations

import typer

from adactx.reader_spec import ReaderSpec

READER_OPT = typer.Option(
    "hf", "--reader", help="hf: a local Hugging Face model | openai: any OpenAI-compatible server (--base-url)."
)
BASE_URL_OPT = typer.Option(
    None, "--base-url", help="--reader openai: the server's URL with /v1, e.g. http://127.0.0.1:8080/v1."
)
TOKENIZER_OPT = typer.Option(
    None, "--tokenizer", help="--reader openai: a local tokenizer directory, for servers without /tokenize."
)
DEVICE_OPT = typer.Option("auto", "--device", help="--reader hf: cpu | cuda | auto (cuda when a GPU is visible).")
DTYPE_OPT = typer.Option(
    "auto", "--dtype", help="--reader hf: auto (float32 on CPU, bfloat16 on GPUs, float16 on GPUs without bf16) | bfloat16 | float16 | float32."
)

ADAPTER_OPT = typer.Option(
    None, "--adapter",
    help="--reader hf: the adapter merged into the model. Default: builtin:smollm2-sft (the SFT reader shipped "
         "with adactx) on the bundled model, none on another; `none`: the base model as downloaded; or a "
         "directory from `adactx train sft`.",
)


def spec(reader: str, base_url: str | None, model: str | None, tokenizer: str | None = None,
         device: str = "auto", dtype: str = "auto", adapter: str | None = None) -> ReaderSpec:
    """The reader the options describe (``model`` is a local directory for hf, the served name for openai)."""
    from adactx.errors import AdactxError
    from adactx.reader import DEVICES, DTYPES

    if device not in DEVICES:
        raise AdactxError(f"--device {device}: choose from {', '.join(DEVICES)}")
    if dtype not in DTYPES:
        raise AdactxError(f"--dtype {dtype}: choose from {', '.join(DTYPES)}")
    if reader == "hf":
        from adactx.reader import adapter_name

        adapter = adapter_name(adapter, model)  # the default written out, so a run records which reader it had
    elif adapter is not None:
        raise AdactxError(f"--adapter {adapter}: only --reader hf merges an adapter (a server serves its own model)")
    return ReaderSpec(
        kind=reader, model=model, base_url=base_url, tokenizer=tokenizer, device=device, dtype=dtype, adapter=adapter
    )
