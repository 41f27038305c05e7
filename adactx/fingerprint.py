"""Content fingerprints for cache keys: what a cached result depends on, hashed, not named.

    adapter_fingerprint("runs/sft/adapter")      # sha256 over the adapter directory's files (names + bytes)
    files_fingerprint([Path("m/model.safetensors")])   # the same over a list of files
    weights_fingerprint(model)                   # sha256 over a module's state-dict tensors (in memory)
    config_key({"kind": "hybrid", ...})          # sha256 of a JSON-able configuration, keys sorted

Hashing a file reads it once; the digest is then remembered in ``$ADACTX_CACHE/fingerprints.json`` under
its (absolute path, size, modification time in ns), so a 270 MB checkpoint costs one read per change,
not one per run. A file rewritten in place gets a new mtime and is hashed again.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable
from pathlib import Path

from adactx.errors import AdactxError

FINGERPRINT_FILE = "fingerprints.json"


def cache_root() -> Path:
    return Path(os.environ.get("ADACTX_CACHE", Path.home() / ".cache" / "adactx"))


def config_key(config: dict) -> str:
    """sha256 of a configuration (any JSON-able dict), independent of key order."""
    text = json.dumps(config, sort_keys=True, default=str, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _load_memory(path: Path) -> dict:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # missing or damaged: it is only a cache of digests, recomputed on demand
    return data if isinstance(data, dict) else {}


def _save_memory(path: Path, memory: dict) -> None:
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.tmp-{os.getpid()}")
        tmp.write_text(json.dumps(memory, sort_keys=True), encoding="utf-8")
        tmp.replace(path)  # atomic: concurrent writers each leave a whole file
    except OSError:
        pass  # a read-only cache only costs a re-hash next time


def file_digest(path: str | Path) -> str:
    """sha256 of a file's bytes, remembered by (absolute path, size, mtime_ns)."""
    path = Path(path).resolve()
    try:
        stat = path.stat()
    except OSError as exc:
        raise AdactxError(f"{path}: cannot read it to fingerprint it ({exc.strerror})") from None
    stamp = f"{path}|{stat.st_size}|{stat.st_mtime_ns}"
    memory_path = cache_root() / FINGERPRINT_FILE
    memory = _load_memory(memory_path)
    if stamp not in memory:
        memory = {k: v for k, v in memory.items() if not k.startswith(f"{path}|")}  # drop stale stamps
        memory[stamp] = _sha256_file(path)
        _save_memory(memory_path, memory)
    return memory[stamp]


def files_fingerprint(paths: Iterable[str | Path], root: str | Path | None = None) -> str:
    """sha256 over (name, content digest) of each file; names are relative to ``root`` when given."""
    entries = []
    for path in sorted(Path(p) for p in paths):
        name = str(path.relative_to(root)) if root is not None else path.name
        entries.append([name, file_digest(path)])
    return config_key({"files": entries})


def adapter_fingerprint(path: str | Path) -> str:
    """Content hash of an adapter (a PEFT/LongLoRA directory, or one file): every file's name and bytes.

    Equal adapters give equal fingerprints wherever they live; changing any byte of any file changes it.
    """
    path = Path(path).expanduser()
    if path.is_file():
        return files_fingerprint([path])
    if not path.is_dir():
        raise AdactxError(f"--adapter {path}: no such adapter directory or file")
    files = [p for p in path.rglob("*") if p.is_file()]
    if not files:
        raise AdactxError(f"--adapter {path}: the adapter directory is empty")
    return files_fingerprint(files, root=path)


def weights_fingerprint(model) -> str:
    """sha256 over a torch module's state dict: each tensor's name, dtype, shape and bytes."""
    import torch

    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        tensor = tensor.detach().to("cpu").contiguous()
        digest.update(f"{name}|{tensor.dtype}|{tuple(tensor.shape)}|".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def checkpoint_fingerprint(directory: str | Path) -> str | None:
    """Content hash of a model directory's weight files (``*.safetensors``); None when it has none."""
    directory = Path(directory)
    files = sorted(directory.glob("*.safetensors"))
    return files_fingerprint(files, root=directory) if files else None


__all__ = [
    "adapter_fingerprint",
    "checkpoint_fingerprint",
    "config_key",
    "file_digest",
    "files_fingerprint",
    "weights_fingerprint",
]
