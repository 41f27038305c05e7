"""`configs/longlora_tiny_smoke.toml` from a fresh clone: its data comes from `$ADACTX_DATA`, not from /work.

The repository is cloned into a scratch directory (committed files only, as a user's clone), a data root
with a `pg_essays` folder is made in the test, and `adactx train longlora --config
configs/longlora_tiny_smoke.toml` runs there as a child process with `ADACTX_DATA` pointing at it. The
command line swaps in a tiny model and a short length (`--model DIR --target_length 64`), the way a user
overrides any config field; the config's own data and output paths are what is tested. That run is
marked slow (``-m slow``); the path resolution it relies on is also tested in-process, fast.
"""

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from helpers import CORPUS, ROOT

CONFIG = "configs/longlora_tiny_smoke.toml"


@pytest.fixture()
def scratch_clone(tmp_path) -> Path:
    if shutil.which("git") is None or not (ROOT / ".git").exists():
        pytest.skip("needs git and a git checkout")
    clone = tmp_path / "clone"
    done = subprocess.run(["git", "clone", "-q", str(ROOT), str(clone)], capture_output=True, text=True, check=False)
    if done.returncode != 0:
        pytest.skip(f"git clone failed: {done.stderr.strip()[:200]}")
    if not (clone / CONFIG).is_file():
        pytest.skip(f"{CONFIG} is not committed yet")
    return clone


@pytest.fixture()
def data_root(tmp_path) -> Path:
    essays = tmp_path / "data" / "pg_essays"
    essays.mkdir(parents=True)
    (essays / "essay.txt").write_text(" ".join(CORPUS * 40))
    return tmp_path / "data"


def test_the_smoke_config_names_no_machine_path():
    import tomllib

    values = tomllib.loads((ROOT / CONFIG).read_text())
    paths = [*values["data_files"], values["output_dir"]]
    assert values["data_files"] == ["data:pg_essays"]
    assert not any(p.startswith(("/", "..")) for p in paths), paths


def test_data_paths_resolve_under_adactx_data(monkeypatch, data_root, tmp_path):
    from adactx.kernels.train import text_files
    from adactx.kernels.train_config import LongLoRATrainConfig

    monkeypatch.setenv("ADACTX_DATA", str(data_root))
    monkeypatch.chdir(tmp_path)  # no ../shared/data here
    cfg = LongLoRATrainConfig.from_file(ROOT / CONFIG)
    assert text_files(cfg.data_files) == [data_root / "pg_essays" / "essay.txt"]
    monkeypatch.setenv("ADACTX_DATA", str(tmp_path / "nowhere"))
    from adactx.errors import AdactxError

    with pytest.raises(AdactxError, match="ADACTX_DATA=.*nowhere: not a directory"):
        text_files(cfg.data_files)


@pytest.mark.slow  # a child process imports torch + transformers: ~35 s here on the shared CPU
def test_smoke_config_trains_from_a_scratch_clone(scratch_clone, data_root, tiny_model_dir):
    adactx = Path(sys.executable).parent / "adactx"
    if not adactx.is_file():
        pytest.skip("the adactx console script is not installed next to this Python")
    env = {**os.environ, "ADACTX_DATA": str(data_root), "OMP_NUM_THREADS": "1"}
    args = [str(adactx), "train", "longlora", "--config", CONFIG, "--no-progress", "--model", str(tiny_model_dir),
            "--target_length", "64", "--max_steps", "1", "--dtype", "float32", "--num_threads", "1"]
    done = subprocess.run(args, cwd=scratch_clone, env=env, capture_output=True, text=True, timeout=300,
                          check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    out = scratch_clone / "runs" / "longlora_smoke"  # the config's output_dir, relative to the clone
    assert (out / "adapter" / "adapter_model.safetensors").is_file()
    assert list((out / "runs").glob("events.out.tfevents.*"))  # report_to = "tensorboard"
    assert "' is deprecated, use '" not in done.stderr  # the shipped config uses the TrainingArguments names


@pytest.fixture()
def tiny_model_dir(tmp_path):
    from helpers import save_tiny_model

    return save_tiny_model(tmp_path / "tiny", max_context=32)
