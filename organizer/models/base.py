"""What every model role shares: device choice, lazy loading under a lock, weight lookup."""

from __future__ import annotations

import hashlib
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from organizer.errors import ModelUnavailableError


def best_device(wanted: str = "auto") -> str:
    """'cuda', 'mps' or 'cpu': the fastest one present, or the one asked for if it is present."""
    import torch

    if wanted in ("cuda", "auto") and torch.cuda.is_available():
        return "cuda"
    if wanted == "mps" or wanted == "auto":
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
    return "cpu"


def bf16_native(device: str) -> bool:
    """Whether bf16 matrix products run natively (AVX512-BF16/AMX on x86, any recent GPU)."""
    import torch

    if device == "cuda":
        return bool(torch.cuda.is_bf16_supported())
    if device == "cpu":
        from organizer.models.cpu import native_bf16

        return native_bf16()
    return False


def local_folder(role: str, spec: str, models_dir: Path | None) -> Path | None:
    """The local folder for a role: ``spec`` itself if it is a folder, else ``models_dir/role``."""
    p = Path(spec).expanduser()
    if p.is_dir():
        return p
    if spec.startswith((".", "/", "~")) or "\\" in spec or (p.suffix == "" and len(p.parts) > 2):
        raise ModelUnavailableError(role, spec, str(p), "no such folder")
    if models_dir is not None and (Path(models_dir) / role).is_dir():
        return Path(models_dir) / role
    return None


def folder_digest(folder: Path, stamped: bool = False) -> str:
    """A short digest of a model folder's files: names, sizes, JSON in full, the last 64 KiB of the rest
    (weights: their last bytes differ between any two trainings). ``stamped``: modification times too, for
    caches made from the weights, where a needless rebuild is cheap and a stale one is wrong (a model whose
    heads alone were trained again can keep its last bytes)."""
    h = hashlib.blake2b(digest_size=6)
    for f in sorted(folder.iterdir()):
        if f.is_file():
            st = f.stat()
            h.update(f.name.encode())
            h.update(str(st.st_size).encode())
            if stamped:
                h.update(str(st.st_mtime_ns).encode())
            if f.suffix == ".json":
                h.update(f.read_bytes())
            else:
                with f.open("rb") as fh:
                    fh.seek(max(0, st.st_size - 65536))
                    h.update(fh.read())
    return h.hexdigest()


class LazyModel(ABC):
    """A model loaded on first use, once per process, under a lock (safe from worker threads)."""

    role: str = "model"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._loaded: Any = None

    @property
    def loaded(self) -> Any:
        if self._loaded is None:
            with self._lock:
                if self._loaded is None:
                    self._loaded = self._load()
        return self._loaded

    def load(self) -> None:
        _ = self.loaded

    @property
    def is_loaded(self) -> bool:
        return self._loaded is not None

    @abstractmethod
    def _load(self) -> Any: ...
