"""Published model packs: the default models in ONNX form, downloaded on first use by an install without torch.

A pack is one model folder in ONNX form (:mod:`organizer.models.onnx_folders`) published as flat files (a
GitHub release has no folders) beside its manifest, ``NAME.manifest.json``::

    {"format": "organizer-model-pack-1", "name": NAME, "role": "clip" | "detector",
     "source": the model it was exported from (a Hugging Face id, a torchvision architecture),
     "revision": the source's revision (the hub commit, the checkpoint file), "licence": ...,
     "files": [{"path": "image.onnx", "asset": "NAME--image.onnx", "size": 351234567, "sha256": "..."}, ...]}

``NAME`` is the model's id made safe for a file name (``clip--openai--clip-vit-base-patch32``), so any model
can have a pack. The release workflow exports the defaults with torch on its runners
(``organizer models export``), packs them (``organizer models pack``) and attaches them to the release named by
``models.download_url`` (the settings' default; a mirror or a local server elsewhere). The app downloads each file resumably (an HTTP Range request continues a ``.part``),
checks its size and SHA-256 against the manifest, and writes the manifest into the folder last: a folder
without it is not used.
"""

from __future__ import annotations

import json
import re
import shutil
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from organizer.errors import ModelUnavailableError
from organizer.fsutil import write_atomic
from organizer.models.download import file_sha256, offline_hint, resume_download
from organizer.progress import Meter, Progress

FORMAT = "organizer-model-pack-1"
MANIFEST = "manifest.json"
LICENCES = {"clip": "MIT (OpenAI CLIP)", "detector": "BSD-3-Clause (torchvision's weights)"}


def pack_name(role: str, spec: str) -> str:
    """The pack's name for the model ``spec`` of ``role``: its id made safe for a file name."""
    return f"{role}--" + re.sub(r"[^A-Za-z0-9._-]+", "--", spec.strip("/")).strip("-")


def packs_dir() -> Path:
    """Where packs are downloaded: the user's cache (as Hugging Face's and torch's downloads are), one folder
    per pack."""
    from organizer.settings import user_cache

    return user_cache() / "models"


def installed(role: str, spec: str) -> Path | None:
    """The pack's folder where it was downloaded whole (every file of its manifest there, at its size)."""
    folder = packs_dir() / pack_name(role, spec)
    try:
        manifest = json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        ok = all((folder / f["path"]).stat().st_size == int(f["size"]) for f in manifest["files"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    return folder if ok else None


def fetch(role: str, spec: str, base_url: str) -> Iterator[Progress]:
    """Download the pack of ``spec`` from ``base_url`` (progress in bytes), resuming what an earlier run left,
    every file checked against the manifest. Raises ModelUnavailableError with what to do instead."""
    name = pack_name(role, spec)
    folder = packs_dir() / name
    base = base_url.rstrip("/")
    manifest = _manifest(role, spec, f"{base}/{name}.manifest.json")
    folder.mkdir(parents=True, exist_ok=True)
    files = manifest["files"]
    total = sum(int(f["size"]) for f in files)
    meter = Meter("download", total)
    done = 0
    for f in files:
        dest = folder / _safe(f["path"])
        size, digest = int(f["size"]), str(f["sha256"])
        if not (dest.is_file() and dest.stat().st_size == size and file_sha256(dest) == digest):
            url = f"{base}/{urllib.parse.quote(str(f['asset']))}"
            for have, _ in resume_download(url, dest, role, spec, size=size, sha256=digest):
                yield meter.at(done + have, f"{role} {spec}: {f['path']}", total)
        done += size
        yield meter.at(done, f"{role} {spec}: {f['path']}", total)
    write_atomic(folder / MANIFEST, json.dumps(manifest, indent=1))


def _manifest(role: str, spec: str, url: str) -> dict[str, Any]:
    try:
        with urllib.request.urlopen(url, timeout=30) as r:
            data = json.loads(r.read(1 << 20))
    except urllib.error.HTTPError as e:
        if e.code == 404:
            raise ModelUnavailableError(role, spec, url, "no ONNX form of this model is published there; install "
                                        "the train extra (pip install 'organizer[train]') to run it through torch, "
                                        "or point at a folder exported where torch is (organizer models export)"
                                        ) from e
        raise ModelUnavailableError(role, spec, url, offline_hint(e)) from e
    except (urllib.error.URLError, OSError, ValueError) as e:
        raise ModelUnavailableError(role, spec, url, offline_hint(e)) from e
    ok = isinstance(data, dict) and data.get("format") == FORMAT and isinstance(data.get("files"), list) and all(
        isinstance(f, dict) and {"path", "asset", "size", "sha256"} <= f.keys() for f in data["files"])
    if not ok or data.get("role") != role:
        raise ModelUnavailableError(role, spec, url, "the manifest there is not an organizer model pack's")
    return data


def make(folder: Path, out: Path, role: str, spec: str, revision: str) -> Path:
    """Publish the ONNX model folder ``folder`` as the pack of ``spec``: its files as flat assets in ``out``
    and their manifest. Returns the manifest's path."""
    name = pack_name(role, spec)
    out.mkdir(parents=True, exist_ok=True)
    files = []
    for f in sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST):
        rel = f.relative_to(folder).as_posix()
        asset = f"{name}--{rel.replace('/', '--')}"
        shutil.copyfile(f, out / asset)
        files.append({"path": rel, "asset": asset, "size": f.stat().st_size, "sha256": file_sha256(f)})
    manifest = {"format": FORMAT, "name": name, "role": role, "source": spec, "revision": revision,
                "licence": LICENCES.get(role, "see the source"), "files": files}
    path = out / f"{name}.manifest.json"
    write_atomic(path, json.dumps(manifest, indent=1))
    return path


def _safe(rel: str) -> str:
    """A manifest's path kept inside the pack's folder."""
    parts = Path(rel).parts
    if not parts or Path(rel).is_absolute() or ".." in parts or "\\" in rel or ":" in rel:
        raise ModelUnavailableError("models", rel, "the manifest", "a file path outside the pack's folder")
    return rel
