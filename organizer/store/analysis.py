"""Stored clusters and projections, with the signature of what they were computed from."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

import numpy as np
from sqlalchemy import delete, insert, select

from organizer.store.db import Store
from organizer.store.records import ClusterRow, Points
from organizer.store.schema import AnalysisPoint, AnalysisRun, Cluster

__all__ = ["AnalysisStore", "ClusterRow", "Points"]


class AnalysisStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def run(self, kind: str) -> AnalysisRun | None:
        with self.store.read() as s:
            return s.get(AnalysisRun, kind)

    def save(self, kind: str, signature: str, params: dict[str, Any], seconds: float, points: Points,
             clusters: Sequence[ClusterRow] = ()) -> None:
        with self.store.tx() as s:
            s.execute(delete(AnalysisPoint).where(AnalysisPoint.kind == kind))
            s.execute(delete(Cluster).where(Cluster.kind == kind))
            s.merge(AnalysisRun(kind=kind, signature=signature, params=json.dumps(params), seconds=seconds,
                                created_at=datetime.now()))
            xyz = points.xyz
            rows = [{"kind": kind, "part_id": int(points.part_ids[i]), "photo_id": int(points.photo_ids[i]),
                     "label": int(points.labels[i]),
                     "x": None if np.isnan(xyz[i, 0]) else float(xyz[i, 0]),
                     "y": None if np.isnan(xyz[i, 1]) else float(xyz[i, 1]),
                     "z": None if np.isnan(xyz[i, 2]) else float(xyz[i, 2]), "sampled": bool(points.sampled[i])}
                    for i in range(len(points.part_ids))]
            if rows:
                s.execute(insert(AnalysisPoint), rows)
            for c in clusters:
                s.add(Cluster(kind=kind, label=c.label, name=c.name, photos=c.photos, cover_photo_id=c.cover_photo_id))

    def clusters(self, kind: str) -> list[ClusterRow]:
        with self.store.read() as s:
            return [ClusterRow(c.label, c.name, c.photos, c.cover_photo_id) for c in
                    s.execute(select(Cluster).where(Cluster.kind == kind)).scalars()]

    def points(self, kind: str) -> Points:
        with self.store.read() as s:
            rows = s.execute(select(AnalysisPoint.part_id, AnalysisPoint.photo_id, AnalysisPoint.label,
                                    AnalysisPoint.x, AnalysisPoint.y, AnalysisPoint.z, AnalysisPoint.sampled)
                             .where(AnalysisPoint.kind == kind).order_by(AnalysisPoint.part_id)).all()
        if not rows:
            z = np.zeros(0, np.int64)
            return Points(z, z, z, np.zeros((0, 3), np.float32), np.zeros(0, bool))
        cols = list(zip(*rows, strict=True))
        xyz = np.array([[np.nan if v is None else v for v in c] for c in cols[3:6]], np.float32).T
        return Points(np.asarray(cols[0], np.int64), np.asarray(cols[1], np.int64), np.asarray(cols[2], np.int64),
                      xyz, np.asarray(cols[6], bool))
