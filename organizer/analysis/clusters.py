"""Groups of similar photos by DBSCAN (cosine), named by CLIP zero-shot over a vocabulary, stored and reused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from organizer.analysis.neighbours import dbscan
from organizer.analysis.selection import Selection, select_vectors
from organizer.models.clip import ClipModel
from organizer.progress import Meter, Progress
from organizer.resources import resource
from organizer.settings import Settings
from organizer.store.analysis import AnalysisStore, ClusterRow, Points
from organizer.store.db import Store

UNCLUSTERED = "unclustered"


@dataclass(slots=True)
class ClusterInfo:
    label: int  # -1: the unclustered photos
    name: str
    photos: int
    cover_photo_id: int | None
    photo_ids: list[int] = field(default_factory=list)


@dataclass(slots=True)
class ClusterResult:
    mode: str
    clusters: list[ClusterInfo]  # largest first, the unclustered last
    reused: bool
    seconds: float
    points: int


def vocabulary() -> list[str]:
    lines = resource("vocabulary.txt").read_text(encoding="utf-8").splitlines()
    return [w.strip() for w in lines if w.strip() and not w.startswith("#")]


class Clusterer:
    def __init__(self, store: Store, clip: ClipModel, settings: Settings) -> None:
        self.store = store
        self.analysis = AnalysisStore(store)
        self.clip = clip
        self.settings = settings

    def params(self) -> dict[str, float]:
        c = self.settings.clusters
        return {"eps": c.eps, "min_samples": c.min_samples}

    def run(self, mode: str = "whole", force: bool = False) -> Iterator[Progress | ClusterResult]:
        kind = f"clusters:{mode}"
        sel = select_vectors(self.store, self.clip.key, mode, self.params())
        previous = self.analysis.run(kind)
        if previous is not None and previous.signature == sel.signature and not force:
            yield self.result(mode, reused=True)
            return
        t = time.perf_counter()
        c = self.settings.clusters
        total = len(sel.part_ids)
        labels = yield from Meter("clusters", total).follow(dbscan(sel.vectors, c.eps, c.min_samples))
        rows = self._describe(sel, labels)
        points = Points(sel.part_ids, sel.photo_ids, labels, np.full((total, 3), np.nan, np.float32),
                        np.zeros(total, bool))
        self.analysis.save(kind, sel.signature, {"mode": mode, **self.params()}, time.perf_counter() - t, points, rows)
        yield self.result(mode, reused=False)

    def labels_for(self, mode: str) -> Points:
        return self.analysis.points(f"clusters:{mode}")

    def result(self, mode: str, reused: bool) -> ClusterResult:
        kind = f"clusters:{mode}"
        run = self.analysis.run(kind)
        pts = self.analysis.points(kind)
        members: dict[int, list[int]] = {}
        for label, pid in zip(pts.labels.tolist(), pts.photo_ids.tolist(), strict=True):
            members.setdefault(label, []).append(pid)
        infos = [ClusterInfo(r.label, r.name, r.photos, r.cover_photo_id,
                             sorted(set(members.get(r.label, [])))) for r in self.analysis.clusters(kind)]
        infos.sort(key=lambda i: (i.label == -1, -i.photos, i.label))
        return ClusterResult(mode, infos, reused, run.seconds if run else 0.0, len(pts.part_ids))

    def _describe(self, sel: Selection, labels: np.ndarray) -> list[ClusterRow]:
        found = sorted(set(labels.tolist()) - {-1})
        rows: list[ClusterRow] = []
        if found:
            words = vocabulary()
            text = self.clip.embed_texts([f"a photo of {w}" for w in words])
            centroids = np.stack([sel.vectors[labels == k].mean(0) for k in found])
            centroids /= np.maximum(np.linalg.norm(centroids, axis=1, keepdims=True), 1e-12)
            best = (centroids @ text.T).argmax(1)
            used: dict[str, int] = {}
            marks = {pid: info.landmark for pid, info in self.store.photos(sorted(set(sel.photo_ids.tolist()))).items()}
            for k, centroid, b in zip(found, centroids, best, strict=True):
                idx = np.flatnonzero(labels == k)
                cover = int(sel.photo_ids[idx[np.argmax(sel.vectors[idx] @ centroid)]])
                name = _shared_landmark([marks.get(int(p)) for p in set(sel.photo_ids[idx].tolist())]) or words[b]
                used[name] = used.get(name, 0) + 1
                if used[name] > 1:
                    name = f"{name} ({used[name]})"
                rows.append(ClusterRow(int(k), name, len(set(sel.photo_ids[idx].tolist())), cover))
        noise = labels == -1
        if noise.any():
            rows.append(ClusterRow(-1, UNCLUSTERED, len(set(sel.photo_ids[noise].tolist())), None))
        return rows


def _shared_landmark(names: list[str | None]) -> str | None:
    """The landmark that more than half of a cluster's photos show, if any."""
    counts: dict[str, int] = {}
    for n in names:
        if n:
            counts[n] = counts.get(n, 0) + 1
    best = max(counts.items(), key=lambda kv: kv[1], default=None)
    return best[0] if best and best[1] * 2 > len(names) else None


