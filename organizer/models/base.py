"""What every model role shares: device choice, lazy loading under a lock, weight lookup."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import threading
from abc import ABC, abstractmethod
from pathlib import Path
from typing import Any

from organizer.errors import ModelUnavailableError
from organizer.fsutil import write_atomic


def best_device(wanted: str = "auto") -> str:
    """'cuda', 'mps' or 'cpu': the fastest one present, or the one asked for if it is present. Asking torch
    costs its import (1-5 s), so the answer is remembered in the user's cache for this machine (its GPU device
    nodes and torch's version): `organizer status` and search start without torch."""
    if wanted == "cpu":
        return "cpu"
    key = _device_key(wanted)
    cache = _device_cache()
    try:
        known = json.loads(cache.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    if isinstance(known, dict) and known.get(key) in ("cuda", "mps", "cpu"):
        return str(known[key])
    found = _ask_torch(wanted)
    if isinstance(known, dict):
        known[key] = found
        with contextlib.suppress(OSError):
            cache.parent.mkdir(parents=True, exist_ok=True)
            write_atomic(cache, json.dumps(known))
    return found


def _ask_torch(wanted: str) -> str:
    try:
        import torch
    except ImportError:  # the light install, without torch: ONNX Runtime on the CPU
        return "cpu"

    if wanted in ("cuda", "auto") and torch.cuda.is_available():
        return "cuda"
    if wanted == "mps" or wanted == "auto":
        mps = getattr(torch.backends, "mps", None)
        if mps is not None and mps.is_available():
            return "mps"
    return "cpu"


def _device_cache() -> Path:
    from organizer.settings import user_cache

    return user_cache() / "devices.json"


def _device_key(wanted: str) -> str:
    """What the answer depends on, found without importing torch: the device asked for, torch's version (a
    CPU-only build sees no GPU), the GPU device nodes present (a GPU or driver added later asks again)."""
    import glob
    import platform

    from organizer.models.ort import torch_version

    nodes = sorted(glob.glob("/dev/nvidia[0-9]*")) + sorted(glob.glob("/dev/dri/renderD*"))
    return "|".join([wanted, torch_version(), platform.system(), platform.machine(), ",".join(nodes),
                     os.environ.get("CUDA_VISIBLE_DEVICES", "-")])


def bf16_native(device: str) -> bool:
    """Whether bf16 matrix products run natively (AVX512-BF16/AMX on x86, any recent GPU)."""
    if device == "cuda":
        import torch

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
        if f.is_file() and not _derived(f.name):
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


def _derived(name: str) -> bool:
    """Files the app makes in a model folder from its weights (the int8 towers, quantised where the folder
    can be written): they do not change what the model is."""
    return name.startswith(("image-int8.", "text-int8.")) or name.endswith((".whole", ".tmp"))


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
