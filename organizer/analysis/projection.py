"""A 3D t-SNE map of the library: a representative sample is projected, every other point is placed
from its nearest projected neighbours. Stored with cluster ids, reused until the embeddings change."""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from organizer.analysis.clusters import Clusterer, ClusterResult
from organizer.analysis.selection import select_vectors
from organizer.errors import BadArgumentError
from organizer.models.clip import ClipModel
from organizer.progress import Progress
from organizer.settings import Settings
from organizer.store.analysis import AnalysisStore, Points
from organizer.store.db import Store

NEIGHBOURS = 5


@dataclass(slots=True)
class ProjectionResult:
    mode: str
    points: Points
    reused: bool
    seconds: float
    sampled: int


def sample_rows(labels: np.ndarray, size: int, seed: int = 0) -> np.ndarray:
    """At most ``size`` row indices, stratified by cluster so that every cluster is represented."""
    n = len(labels)
    if n <= size:
        return np.arange(n)
    rng = np.random.default_rng(seed)
    picked: list[np.ndarray] = []
    groups = [np.flatnonzero(labels == k) for k in np.unique(labels)]
    for g in groups:
        take = max(1, int(round(size * len(g) / n)))
        picked.append(rng.choice(g, min(take, len(g)), replace=False))
    out = np.unique(np.concatenate(picked))
    if len(out) > size:
        out = np.sort(rng.choice(out, size, replace=False))
    elif len(out) < size:  # rounding left room: fill it at random from the rest
        rest = np.setdiff1d(np.arange(n), out)
        out = np.sort(np.concatenate([out, rng.choice(rest, size - len(out), replace=False)]))
    return out


def tsne_3d(x: np.ndarray, settings: Settings) -> np.ndarray:
    p = settings.projection
    m = len(x)
    if m < 5:  # too few points for t-SNE: lay them out by PCA
        out = np.zeros((m, 3), np.float32)
        if m > 1:
            centred = x - x.mean(0)
            u, s, _ = np.linalg.svd(centred, full_matrices=False)
            k = min(3, len(s))
            out[:, :k] = u[:, :k] * s[:k]
        return out
    from sklearn.manifold import TSNE

    tsne = TSNE(n_components=p.n_components, perplexity=min(p.perplexity, (m - 1) / 3), max_iter=p.max_iter,
                init=p.init, metric=p.metric, random_state=0)
    return tsne.fit_transform(x).astype(np.float32)


def place(rest: np.ndarray, sample: np.ndarray, coords: np.ndarray, k: int = NEIGHBOURS) -> np.ndarray:
    """Coordinates for ``rest`` as the similarity-weighted mean of their k most similar sampled points."""
    out = np.zeros((len(rest), coords.shape[1]), np.float32)
    k = min(k, len(sample))
    for i in range(0, len(rest), 8192):
        sims = rest[i : i + 8192] @ sample.T
        top = np.argpartition(-sims, k - 1, axis=1)[:, :k]
        w = np.take_along_axis(sims, top, axis=1)
        w = np.exp((w - w.max(1, keepdims=True)) / 0.05)
        w /= w.sum(1, keepdims=True)
        out[i : i + 8192] = np.einsum("nk,nkd->nd", w, coords[top])
    return out


class Projector:
    def __init__(self, store: Store, clip: ClipModel, settings: Settings) -> None:
        self.store = store
        self.analysis = AnalysisStore(store)
        self.clip = clip
        self.settings = settings
        self.clusterer = Clusterer(store, clip, settings)

    def run(self, mode: str = "whole", force: bool = False) -> Iterator[Progress | ClusterResult | ProjectionResult]:
        kind = f"projection:{mode}"
        p = self.settings.projection
        params = {"perplexity": p.perplexity, "max_iter": p.max_iter, "init": p.init, "sample": p.sample,
                  **self.clusterer.params()}
        sel = select_vectors(self.store, self.clip.key, mode, params)
        previous = self.analysis.run(kind)
        if previous is not None and previous.signature == sel.signature and not force:
            pts = self.analysis.points(kind)
            yield ProjectionResult(mode, pts, True, previous.seconds, int(pts.sampled.sum()))
            return
        t = time.perf_counter()
        yield from self.clusterer.run(mode)  # cluster ids for colouring; reused when current
        clustered = self.clusterer.labels_for(mode)
        by_part = dict(zip(clustered.part_ids.tolist(), clustered.labels.tolist(), strict=True))
        labels = np.array([by_part.get(int(pid), -1) for pid in sel.part_ids], np.int64)
        n = len(sel.part_ids)
        idx = sample_rows(labels, p.sample)
        yield Progress("projection", 0, n, f"t-SNE of {len(idx)} points")
        coords = np.full((n, 3), np.nan, np.float32)
        if n:
            coords[idx] = tsne_3d(sel.vectors[idx], self.settings)
            rest = np.setdiff1d(np.arange(n), idx)
            if len(rest):
                coords[rest] = place(sel.vectors[rest], sel.vectors[idx], coords[idx])
        sampled = np.zeros(n, bool)
        sampled[idx] = True
        pts = Points(sel.part_ids, sel.photo_ids, labels, coords, sampled)
        seconds = time.perf_counter() - t
        self.analysis.save(kind, sel.signature, {"mode": mode, **params}, seconds, pts)
        yield Progress("projection", n, n)
        yield ProjectionResult(mode, self.analysis.points(kind), False, seconds, len(idx))


def export(result: ProjectionResult, path: Path, store: Store, cluster_names: dict[int, str]) -> int:
    """Write the coordinates and labels as CSV or JSON (by the file's extension); returns rows written."""
    pts = result.points
    photos = store.photos(sorted(set(pts.photo_ids.tolist())))
    parts = store.parts(pts.part_ids.tolist())
    rows = []
    for i in range(len(pts.part_ids)):
        pid = int(pts.photo_ids[i])
        part = parts.get(int(pts.part_ids[i]))
        info = photos.get(pid)
        rows.append({"part_id": int(pts.part_ids[i]), "photo_id": pid, "path": info.paths[0] if info and info.paths else "",
                     "type": part.type if part else "", "x": float(pts.xyz[i, 0]), "y": float(pts.xyz[i, 1]),
                     "z": float(pts.xyz[i, 2]), "cluster": int(pts.labels[i]),
                     "cluster_name": cluster_names.get(int(pts.labels[i]), ""), "sampled": bool(pts.sampled[i])})
    suffix = path.suffix.lower()
    if suffix not in (".json", ".csv"):
        raise BadArgumentError(f"--export writes .csv or .json files, not '{path.suffix}'")
    try:
        if suffix == ".json":
            path.write_text(json.dumps({"schema": "organizer.projection/1", "mode": result.mode, "points": rows},
                                       indent=1), encoding="utf-8")
        else:
            with path.open("w", newline="", encoding="utf-8") as f:
                w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ["part_id"])
                w.writeheader()
                w.writerows(rows)
    except OSError as e:  # a full disk, /proc, a folder that vanished
        raise BadArgumentError(f"Cannot write {path}: {e.strerror or e}") from e
    return len(rows)
