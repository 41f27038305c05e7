"""The wheel maps graphs/ retrieval/ rl/ kernels/ into adactx.*: build it, install it into a fresh
virtual environment (reusing this environment's installed dependencies), import each subpackage."""

import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest
from helpers import ROOT

pytestmark = pytest.mark.slow


def test_wheel_installs_and_imports_namespaced_packages(tmp_path):
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-w", dist, ROOT],
                   check=True, capture_output=True)
    wheel = next(dist.glob("adactx-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    python = env_dir / "bin" / "python"
    site = subprocess.run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # dependencies come from this environment (appended after the new env's own site-packages);
    # adactx itself only from the wheel
    (tmp_path / "venv" / site.split(str(env_dir) + "/")[1] / "deps.pth").write_text(sysconfig.get_paths()["purelib"])
    subprocess.run([python, "-m", "pip", "install", "--no-deps", "--no-index", wheel], check=True, capture_output=True)
    code = (
        "import adactx, adactx.graphs, adactx.retrieval, adactx.rl, adactx.kernels, importlib.util as u;"
        "print(adactx.__file__);"
        "print(all(u.find_spec(n) is None for n in ('graphs', 'retrieval', 'rl', 'kernels')));"
        "from adactx.reader import resolve_adapter; print(resolve_adapter(None))"
    )
    out = subprocess.run([python, "-c", code], check=True, capture_output=True, text=True, cwd=tmp_path).stdout
    location, no_top_level, adapter = out.split()
    assert str(env_dir) in location  # imported from the installed wheel, not the checkout
    assert no_top_level == "True"
    # the default reader's adapter ships in the wheel
    assert str(env_dir) in adapter
    assert {p.name for p in Path(adapter).iterdir()} >= {"adapter_config.json", "adapter_model.safetensors"}
