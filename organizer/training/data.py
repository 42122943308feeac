"""Landmark training data: reading ImageFolder and Google Landmarks v2 layouts, embedding with a
frozen CLIP (cached), cleaning, and a stratified split."""

from __future__ import annotations

import csv
import os
import re
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from organizer.errors import BadArgumentError
from organizer.fsutil import replacing
from organizer.landmarks.catalogue import friendly_name
from organizer.media.scan import walk
from organizer.models.clip import ClipModel, read_prepared
from organizer.progress import Meter, Progress, drain


@dataclass(slots=True)
class Item:
    path: str
    label: str  # class key
    name: str  # friendly name


@dataclass(slots=True)
class Dataset:
    root: Path
    format: str  # "imagefolder" or "gldv2"
    items: list[Item]
    missing: list[str] = field(default_factory=list)  # listed in train.csv but not on disk


def read_dataset(root: Path) -> Dataset:
    root = Path(root)
    if not root.is_dir():
        raise BadArgumentError(f"Training data not found: {root}")
    if (root / "train.csv").is_file():
        return _read_gldv2(root)
    items = []
    for sub in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        name = friendly_name(sub.name)
        items += [Item(e.path, sub.name, name) for e in walk([sub])]
    if not items:
        raise BadArgumentError(f"No images in {root}: expected one folder per landmark (ImageFolder) or the "
                               "Google Landmarks v2 layout (train.csv, train/a/b/c/<id>.jpg)")
    return Dataset(root, "imagefolder", items)


def _read_gldv2(root: Path) -> Dataset:
    names: dict[str, str] = {}
    mapping = root / "train_label_to_category.csv"
    if mapping.is_file():
        with mapping.open(encoding="utf-8", newline="") as f:
            for row in csv.DictReader(f):
                names[row["landmark_id"]] = friendly_name(row.get("category", "") or row["landmark_id"])
    items, missing = [], []
    with (root / "train.csv").open(encoding="utf-8", newline="") as f:
        reader = csv.DictReader(f)
        if not {"id", "landmark_id"} <= set(reader.fieldnames or []):
            raise BadArgumentError(f"{root / 'train.csv'} needs the columns id and landmark_id")
        bad: list[tuple[int, str]] = []
        for line, row in enumerate(reader, start=2):
            img_id, label = (row["id"] or "").strip(), (row["landmark_id"] or "").strip()
            if not _SAFE_ID.fullmatch(img_id):
                bad.append((line, img_id))
                continue
            path = root / "train" / img_id[0] / img_id[1] / img_id[2] / f"{img_id}.jpg"
            if path.is_file():
                items.append(Item(str(path), label, names.get(label, f"landmark {label}")))
            else:
                missing.append(str(path))
    if bad:
        line, img_id = bad[0]
        raise BadArgumentError(f"{root / 'train.csv'}: {len(bad)} image ids are not plain ids (letters and digits, "
                               f"at least three; first: {img_id!r} on line {line}); fix or remove those rows")
    return Dataset(root, "gldv2", items, missing)


_SAFE_ID = re.compile(r"[A-Za-z0-9_-]{3,}")


@dataclass(slots=True)
class Embedded:
    vectors: np.ndarray  # (n, dim) float32; rows of unreadable images are zero
    hashes: list[str | None]
    corrupt: dict[int, str]  # index -> reason


def embed_items(items: list[Item], clip: ClipModel, cache: Path | None, workers: int = 2,
                batch: int = 32, write_cache: bool = True) -> Iterator[Progress | Embedded]:
    """CLIP image embeddings of every item (frozen CLIP), reusing a cache of unchanged files. The cache
    keeps what it held for other files, and is replaced atomically (a kill leaves the old one)."""
    clip.load()
    size = clip.image_size
    cached: dict[tuple[str, int, int], tuple[np.ndarray, str]] = {}
    if cache is not None and cache.is_file():
        with np.load(cache, allow_pickle=False) as z:
            if str(z["model"]) == clip.key:
                for p, s, m, v, h in zip(z["paths"], z["sizes"], z["mtimes"], z["vectors"], z["hashes"], strict=True):
                    cached[(str(p), int(s), int(m))] = (v, str(h))
    n = len(items)
    vectors = np.zeros((n, clip.dim), np.float32)
    hashes: list[str | None] = [None] * n
    corrupt: dict[int, str] = {}
    stats = {}
    for i, it in enumerate(items):
        try:
            st = os.stat(it.path)
            stats[i] = (st.st_size, st.st_mtime_ns)
        except OSError as e:
            corrupt[i] = f"unreadable ({e.strerror})"
    todo = []
    for i in stats:
        hit = cached.get((items[i].path, *stats[i]))
        if hit is not None:
            vectors[i], hashes[i] = hit
        else:
            todo.append(i)

    meter = Meter("embed", len(todo))
    chunk: list[tuple[int, np.ndarray]] = []
    for i, r in read_prepared(todo, lambda j: items[j].path, size, workers, ahead=batch * 2):
        if isinstance(r, str):
            corrupt[i] = r
        else:
            hashes[i] = r[0]
            chunk.append((i, r[1]))
        if len(chunk) >= batch:
            vectors[[j for j, _ in chunk]] = clip.embed_pixels(np.stack([px for _, px in chunk]))
            chunk = []
        yield meter.step(1, items[i].path)
    if chunk:
        vectors[[j for j, _ in chunk]] = clip.embed_pixels(np.stack([px for _, px in chunk]))
    if cache is not None and write_cache:
        ok = [i for i in range(n) if i not in corrupt]
        entries = {k: v for k, v in cached.items()}
        entries.update({(items[i].path, *stats[i]): (vectors[i], hashes[i] or "") for i in ok})
        _save_cache(cache, clip.key, entries, clip.dim)
    yield Embedded(vectors, hashes, corrupt)


def _save_cache(cache: Path, model: str, entries: dict[tuple[str, int, int], tuple[np.ndarray, str]],
                dim: int) -> None:
    cache.parent.mkdir(parents=True, exist_ok=True)
    keys = list(entries)
    with replacing(cache) as tmp, open(tmp, "wb") as f:
        np.savez(f, model=np.array(model), paths=np.array([k[0] for k in keys]),
                 sizes=np.array([k[1] for k in keys], np.int64), mtimes=np.array([k[2] for k in keys], np.int64),
                 vectors=np.stack([entries[k][0] for k in keys]) if keys else np.zeros((0, dim), np.float32),
                 hashes=np.array([entries[k][1] for k in keys]))


@dataclass(slots=True)
class CleaningReport:
    images: int = 0
    missing: int = 0
    corrupt: int = 0
    exact_duplicates: int = 0
    near_duplicates: int = 0
    outliers: int = 0
    small_classes: int = 0
    small_class_images: int = 0
    kept_images: int = 0
    kept_classes: int = 0
    examples: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict:
        return asdict(self)


def clean(items: list[Item], emb: Embedded, missing: int, min_count: int = 10, near_duplicate: float = 0.02,
          outlier_eps: float = 0.33, outlier_min_samples: int = 2) -> tuple[np.ndarray, CleaningReport]:
    """Indices of the items to keep, and what was removed and why.

    In order: unreadable images; exact duplicates (same bytes: one copy kept, or none when the
    copies carry different labels); near duplicates (cosine distance under ``near_duplicate``:
    re-encodes, resizes, burst shots; one kept per group, so no copy can sit on both sides of a
    split); per-class outliers (points DBSCAN, cosine ``outlier_eps``, leaves as noise in their
    class, when the class has a dense core at all); then classes left with fewer than ``min_count``.
    """
    from organizer.analysis.neighbours import dbscan

    rep = CleaningReport(images=len(items) + missing, missing=missing, corrupt=len(emb.corrupt))
    rep.examples["corrupt"] = [items[i].path for i in list(emb.corrupt)[:5]]
    keep = np.array([i not in emb.corrupt for i in range(len(items))])
    labels = np.array([it.label for it in items])
    # exact duplicates
    by_hash: dict[str, list[int]] = {}
    for i in np.flatnonzero(keep):
        by_hash.setdefault(emb.hashes[i] or f"#{i}", []).append(int(i))
    dropped: list[int] = []
    for group in by_hash.values():
        if len(group) > 1:
            drop = group if len(set(labels[group])) > 1 else group[1:]
            dropped += drop
    keep[dropped] = False
    rep.exact_duplicates = len(dropped)
    rep.examples["exact_duplicates"] = [items[i].path for i in dropped[:5]]
    # near duplicates: connected groups within a tiny cosine distance
    idx = np.flatnonzero(keep) if near_duplicate > 0 else np.zeros(0, int)
    groups = drain(dbscan(emb.vectors[idx], near_duplicate, 1)) if len(idx) else np.zeros(0, int)
    dropped = []
    for g in set(groups.tolist()):
        members = idx[groups == g]
        if len(members) > 1:
            dropped += members.tolist() if len(set(labels[members])) > 1 else members[1:].tolist()
    keep[dropped] = False
    rep.near_duplicates = len(dropped)
    rep.examples["near_duplicates"] = [items[i].path for i in dropped[:5]]
    # per-class outliers
    dropped = []
    for lab in sorted(set(labels[keep].tolist())):
        members = np.flatnonzero(keep & (labels == lab))
        if len(members) < max(3, outlier_min_samples + 1):
            continue
        found = drain(dbscan(emb.vectors[members], outlier_eps, outlier_min_samples))
        if (found >= 0).any():
            dropped += members[found < 0].tolist()
    keep[dropped] = False
    rep.outliers = len(dropped)
    rep.examples["outliers"] = [items[i].path for i in dropped[:5]]
    # small classes
    counts: dict[str, int] = {}
    for lab in labels[keep]:
        counts[lab] = counts.get(lab, 0) + 1
    small = {lab for lab, c in counts.items() if c < min_count}
    small_rows = keep & np.isin(labels, list(small))
    rep.small_classes, rep.small_class_images = len(small), int(small_rows.sum())
    keep &= ~small_rows
    rep.kept_images = int(keep.sum())
    rep.kept_classes = len(set(labels[keep].tolist()))
    return np.flatnonzero(keep), rep


def split(labels: np.ndarray, seed: int = 0, val: float = 0.15, test: float = 0.15) -> tuple[np.ndarray, ...]:
    """Stratified train / validation / test indices (every class on every side where it has 3 images)."""
    rng = np.random.default_rng(seed)
    tr, va, te = [], [], []
    for lab in sorted(set(labels.tolist())):
        idx = rng.permutation(np.flatnonzero(labels == lab))
        n = len(idx)
        n_te = max(1, round(n * test)) if n >= 3 else 0
        n_va = max(1, round(n * val)) if n >= 3 else 0
        te += idx[:n_te].tolist()
        va += idx[n_te : n_te + n_va].tolist()
        tr += idx[n_te + n_va :].tolist()
    return np.array(sorted(tr), int), np.array(sorted(va), int), np.array(sorted(te), int)
