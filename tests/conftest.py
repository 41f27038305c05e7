import os
import sys
from pathlib import Path

import pytest

TESTS = Path(__file__).parent
ROOT = TESTS.parent
sys.path.insert(0, str(TESTS))  # `import helpers` from any test folder
os.environ.setdefault("TRL_EXPERIMENTAL_SILENCE", "1")
os.environ.setdefault("HF_HUB_OFFLINE", "1")  # tests never reach a hub


def pytest_configure(config):
    import torch

    torch.set_num_threads(1)  # tiny models gain nothing from threads, and lose much on a loaded machine


@pytest.fixture(scope="session", autouse=True)
def fresh_adactx_cache(tmp_path_factory):
    """Every test run starts from an empty ADACTX_CACHE (converted model, indexes, memo, sessions), so
    a cache a developer's machine built under other code or defaults never decides a test; the real-
    model tests convert the GGUF once per run (~12 s). Tests that need isolation use ``tmp_cache``."""
    cache = tmp_path_factory.mktemp("adactx-cache")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("ADACTX_CACHE", str(cache))
        yield cache


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real data root, found as the library finds it (``adactx.data.paths``); skip without it."""
    from adactx.data.paths import data_root
    from adactx.errors import AdactxError

    try:
        return data_root()
    except AdactxError as exc:
        pytest.skip(str(exc))


@pytest.fixture()
def tmp_cache(tmp_path, monkeypatch):
    """An isolated ADACTX_CACHE (traces, reader memo) for one test."""
    monkeypatch.setenv("ADACTX_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"
