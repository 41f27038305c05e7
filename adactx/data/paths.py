"""Where the real data lives: ``$ADACTX_DATA``, else ``../shared/data`` next to the repo or the cwd, or
next to the local checkout this repo was cloned from (a scratch clone of a checkout finds its data).

root = data_root()                     # Path, or AdactxError saying how to point at the data
path = data_file("qmsum", "ALL", "jsonl", "val.jsonl")
path = resolve_data_path("data:pg_essays")   # "data:REL" -> REL under the data root; other paths as given
"""

from __future__ import annotations

import os
from pathlib import Path

from adactx.errors import AdactxError

ENV_VAR = "ADACTX_DATA"
_REPO_ROOT = Path(__file__).resolve().parents[2]


def local_origin(repo: Path = _REPO_ROOT) -> Path | None:
    """The checkout ``repo`` was cloned from, when its ``origin`` remote is a local directory."""
    config = repo / ".git" / "config"
    if not config.is_file():
        return None
    section = ""
    for line in config.read_text(encoding="utf-8", errors="replace").splitlines():
        line = line.strip()
        if line.startswith("["):
            section = line
        elif section == '[remote "origin"]' and line.startswith("url"):
            url = line.partition("=")[2].strip().removeprefix("file://")
            path = (repo / url).resolve() if url else None
            return path if path is not None and path.is_dir() else None
    return None


def candidate_roots() -> list[Path]:
    """Places searched in order when ``$ADACTX_DATA`` is unset."""
    cwd = Path.cwd().resolve()
    found = [_REPO_ROOT.parent / "shared" / "data"]
    for base in (cwd, *cwd.parents):
        found += [base / "shared" / "data", base.parent / "shared" / "data"]
    origin = local_origin()
    if origin is not None:
        found.append(origin.parent / "shared" / "data")
    return list(dict.fromkeys(found))


def data_root() -> Path:
    """The data root; an ``AdactxError`` names the variable to set when it cannot be found."""
    env = os.environ.get(ENV_VAR)
    if env:
        root = Path(env).expanduser()
        if not root.is_dir():
            raise AdactxError(f"{ENV_VAR}={env}: not a directory (point it at the shared data folder)")
        return root
    for root in candidate_roots():
        if root.is_dir():
            return root
    raise AdactxError(
        f"real data not found (looked for ../shared/data next to {_REPO_ROOT} and above {Path.cwd()}); "
        f"set {ENV_VAR}=/path/to/shared/data"
    )


DATA_PREFIX = "data:"


def resolve_data_path(raw: str) -> Path:
    """``data:REL`` is REL under :func:`data_root` (so a config file works from any clone); anything
    else is a local path (``~`` expanded, relative to the working directory)."""
    if raw.startswith(DATA_PREFIX):
        return data_root() / raw[len(DATA_PREFIX):].lstrip("/")
    return Path(raw).expanduser()


def data_file(*parts: str) -> Path:
    """A file under the data root; an ``AdactxError`` names it when it is missing."""
    path = data_root().joinpath(*parts)
    if not path.exists():
        raise AdactxError(f"{path}: missing from the data root {data_root()} (see its README.md)")
    return path
