"""First-run downloads of the default models, with progress, resumable, and one clear message offline.

CLIP comes from the Hugging Face hub (huggingface_hub resumes a partial file by itself); the
detector's weights from torchvision's model store into torch's cache, resumed with an HTTP Range
request. Local folders (`--models`, `--clip-model DIR`, a bundled `resources/models/`) need none.
"""

from __future__ import annotations

import hashlib
import http.client
import os
import re
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from organizer.errors import ModelUnavailableError
from organizer.progress import Meter, Progress

CLIP_FILES = ["*.json", "*.txt", "*.safetensors"]  # config, tokenizer, weights: no pickled or TF/Flax files


def clip_cached(spec: str) -> bool:
    from huggingface_hub import snapshot_download

    try:
        snapshot_download(spec, allow_patterns=CLIP_FILES, local_files_only=True)
        return True
    except Exception:  # noqa: BLE001 - not in the cache, in whatever way
        return False


def download_clip(spec: str) -> Iterator[Progress]:
    """Progress in bytes while the hub download runs in a helper thread."""
    from huggingface_hub import snapshot_download
    from tqdm.auto import tqdm

    state = {"done": 0, "total": 0}
    lock = threading.Lock()

    class _Bytes(tqdm):  # type: ignore[misc]  # counts what huggingface_hub reports, prints nothing
        def __init__(self, *a: Any, **k: Any) -> None:
            k["disable"] = True
            super().__init__(*a, **k)
            with lock:
                state["total"] += int(k.get("total") or 0)

        def update(self, n: float | None = 1) -> bool | None:
            with lock:
                state["done"] += int(n or 0)
            return super().update(n)

    error: list[BaseException] = []

    def run() -> None:
        try:
            snapshot_download(spec, allow_patterns=CLIP_FILES, tqdm_class=_Bytes)
        except BaseException as e:  # noqa: BLE001 - reported below
            error.append(e)

    t = threading.Thread(target=run, daemon=True)
    t.start()
    meter = Meter("download", 0)
    while t.is_alive():
        t.join(0.25)
        with lock:
            done, total = state["done"], state["total"]
        yield meter.at(done, f"CLIP {spec}", total)
    if error:
        raise ModelUnavailableError("clip", spec, "the Hugging Face hub", offline_hint(error[0]))


def download_file(url: str, dest: Path, label: str, role: str = "detector") -> Iterator[Progress]:
    """Stream ``url`` to ``dest`` (see :func:`resume_download`), checked against the start of the SHA-256 that
    torchvision's weight files carry in their name."""
    meter: Meter | None = None
    for have, total in resume_download(url, dest, role, label, sha256=_hash_prefix(dest.name)):
        if meter is None:
            meter = Meter("download", total, baseline=have)
        yield meter.at(have, label)


def resume_download(url: str, dest: Path, role: str, label: str, size: int | None = None,
                    sha256: str | None = None) -> Iterator[tuple[int, int]]:
    """Stream ``url`` into ``dest.part``, resuming what an earlier run left with a Range request, yielding (bytes
    held, bytes in all, 0 where unknown) once the server answers and after each block; then check the size (``size``, else the
    server's) and the SHA-256 (``sha256``: the whole digest or its start) and rename it to ``dest``. A download
    that stops keeps its part for the next run; a wrong file is deleted (it cannot be resumed into a right one).
    Every failure is a ModelUnavailableError saying what to do."""
    part = dest.with_name(dest.name + ".part")
    dest.parent.mkdir(parents=True, exist_ok=True)
    have = part.stat().st_size if part.exists() else 0
    if size is not None and have > size:  # not this file's beginning
        part.unlink()
        have = 0
    total = size if size is not None else 0
    if size is None or have < size:
        req = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                if have and r.status != 206:  # the server ignored the range: start again
                    have = 0
                length = r.headers.get("Content-Length")
                if size is None and length:  # else unknown: whatever the server sends until it closes
                    total = have + int(length)
                yield have, total
                with part.open("ab" if have else "wb") as out:
                    while size is None or have < size:
                        chunk = r.read(1 << 20)
                        if not chunk:
                            break
                        out.write(chunk)
                        have += len(chunk)
                        yield have, total
        except (urllib.error.URLError, OSError, http.client.HTTPException) as e:
            raise ModelUnavailableError(role, label, url, offline_hint(e) + "; run the command again to resume it"
                                        ) from e
    if total and have != total:  # the server closed early: keep the part, resume next time
        raise ModelUnavailableError(role, label, url, f"the download stopped at {have:,} of {total:,} bytes; run "
                                    "the command again to resume it")
    if sha256 is not None:
        digest = file_sha256(part)
        if not digest.startswith(sha256):
            part.unlink(missing_ok=True)
            raise ModelUnavailableError(role, label, url, f"the downloaded file is damaged (SHA-256 {digest[:12]}..., "
                                        f"expected {sha256[:12]}...); run the command again to download it anew")
    os.replace(part, dest)


def _hash_prefix(name: str) -> str | None:
    """torchvision's weight files carry the start of their SHA-256 in the name (``...-7d2fb45c.pth``)."""
    m = re.search(r"-([0-9a-f]{8,64})\.(?:pth|pt|safetensors)$", name)
    return m.group(1) if m else None


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def offline_hint(e: BaseException) -> str:
    text = str(e).splitlines()[0][:200] if str(e) else type(e).__name__
    return f"the download failed ({text}); if this computer is offline, copy the model folder over and point at it"
