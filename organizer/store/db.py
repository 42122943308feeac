"""The Store: every read and write of the library database goes through here."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import Engine, create_engine, delete, event, func, select, text
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session

from organizer.errors import LibraryError
from organizer.store.migrations import migrate
from organizer.store.schema import (
    AnalysisPoint,
    AnalysisRun,
    Cluster,
    Embedding,
    Meta,
    Part,
    Photo,
    PhotoLandmark,
    PhotoPath,
    Skipped,
)

DB_NAME = "library.sqlite3"


@dataclass(slots=True)
class FileRef:
    """A file on disk as the store records it."""

    path: str
    size: int
    mtime_ns: int


@dataclass(slots=True)
class PhotoInfo:
    hash: str
    size: int
    format: str
    width: int
    height: int
    taken_at: datetime | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None


@dataclass(slots=True)
class NewPart:
    type: str
    vector: np.ndarray  # float32, L2-normalised
    modality: str
    box: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    confidence: float | None = None
    label: str | None = None
    text: str | None = None


@dataclass(slots=True)
class NewPhoto:
    file: FileRef
    info: PhotoInfo
    whole: NewPart
    extra_files: list[FileRef] = field(default_factory=list)  # same bytes under other paths


@dataclass(slots=True)
class VectorRows:
    embedding_ids: np.ndarray  # int64
    part_ids: np.ndarray  # int64
    photo_ids: np.ndarray  # int64
    types: list[str]
    modalities: list[str]
    matrix: np.ndarray  # float16 (n, dim)


@dataclass(slots=True)
class PartRow:
    id: int
    photo_id: int
    type: str
    box: tuple[float, float, float, float]
    confidence: float | None
    label: str | None
    text: str | None


class Store:
    def __init__(self, library: str | os.PathLike[str]) -> None:
        self.folder = Path(library)
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise LibraryError(f"Cannot create the library folder {self.folder}: {e.strerror or e}") from e
        self.path = self.folder / DB_NAME
        # Connections are pooled and may serve any thread (the window reads while a worker writes; WAL).
        self.engine: Engine = create_engine(f"sqlite:///{self.path}",
                                            connect_args={"timeout": 30, "check_same_thread": False})
        event.listen(self.engine, "connect", _pragmas)
        try:
            with self.engine.begin() as conn:
                migrate(conn)
        except OperationalError as e:
            raise LibraryError(f"Cannot open the library database {self.path}: {e.orig}") from e
        except sqlite3.DatabaseError as e:  # pragma: no cover - wrapped by SQLAlchemy in practice
            raise LibraryError(f"The library database {self.path} is damaged: {e}") from e
        except SQLAlchemyError as e:
            raise LibraryError(f"The library database {self.path} cannot be used: {e}") from e

    def close(self) -> None:
        self.engine.dispose()

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    # ---- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self.session() as s:
            row = s.get(Meta, key)
            return row.value if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.session() as s, s.begin():
            s.merge(Meta(key=key, value=value))

    def generation(self) -> int:
        """Grows whenever something is removed, so an in-memory index knows to reload."""
        return int(self.get_meta("removals", "0") or 0)

    def _bump_removals(self, s: Session) -> None:
        row = s.get(Meta, "removals")
        if row is None:
            s.add(Meta(key="removals", value="1"))
        else:
            row.value = str(int(row.value) + 1)

    # ---- files --------------------------------------------------------------------------------

    def known_files(self, under: Sequence[str] | None = None) -> dict[str, tuple[int, int, int]]:
        """path -> (photo_id, size, mtime_ns), optionally only under some folders or files."""
        stmt = select(PhotoPath.path, PhotoPath.photo_id, PhotoPath.size, PhotoPath.mtime_ns)
        with self.session() as s:
            rows = s.execute(stmt).all()
        out = {r[0]: (r[1], r[2], r[3]) for r in rows}
        if under is not None:
            out = {p: v for p, v in out.items() if any(_is_under(p, u) for u in under)}
        return out

    def skipped_files(self) -> dict[str, tuple[int, int]]:
        with self.session() as s:
            return {r[0]: (r[1], r[2]) for r in s.execute(select(Skipped.path, Skipped.size, Skipped.mtime_ns))}

    def photo_for_hash(self, hashes: Iterable[str]) -> dict[str, int]:
        hashes = list(hashes)
        out: dict[str, int] = {}
        with self.session() as s:
            for i in range(0, len(hashes), 500):
                chunk = hashes[i : i + 500]
                out.update({h: pid for h, pid in s.execute(select(Photo.hash, Photo.id).where(Photo.hash.in_(chunk)))})
        return out

    def all_hashes(self) -> set[str]:
        with self.session() as s:
            return set(s.execute(select(Photo.hash)).scalars())

    def add_photos(self, photos: Sequence[NewPhoto], model: str) -> list[int]:
        """Store new photos with their whole-photo embedding: each whole, all in one transaction."""
        ids = []
        with self.session() as s, s.begin():
            for p in photos:
                photo = Photo(**_asdict(p.info))
                s.add(photo)
                s.flush()
                self._add_parts(s, photo.id, [p.whole], model)
                for f in [p.file, *p.extra_files]:
                    self._link(s, f, photo.id)
                self._refresh_words(s, photo.id)
                ids.append(photo.id)
        return ids

    def link_files(self, links: Sequence[tuple[FileRef, int]]) -> None:
        """Point paths at photos already stored (moved, copied or touched files)."""
        with self.session() as s, s.begin():
            touched: set[int] = set()
            for f, photo_id in links:
                touched |= self._link(s, f, photo_id)
            for pid in touched:
                self._refresh_words(s, pid)

    def record_skips(self, skips: Sequence[tuple[FileRef, str, str]]) -> None:
        """Record unreadable files; a path that held a photo before no longer does."""
        with self.session() as s, s.begin():
            for f, reason, detail in skips:
                self._unlink_paths(s, [f.path])
                s.merge(Skipped(path=f.path, reason=reason, detail=detail, size=f.size, mtime_ns=f.mtime_ns,
                                at=datetime.now()))

    def remove_paths(self, paths: Sequence[str]) -> int:
        """Forget paths (and skip records); returns how many photos left the library."""
        with self.session() as s, s.begin():
            removed = self._unlink_paths(s, paths)
            for i in range(0, len(paths), 500):
                s.execute(delete(Skipped).where(Skipped.path.in_(paths[i : i + 500])))
        return removed

    def paths_under(self, folder: str) -> tuple[list[str], list[str]]:
        """(indexed paths, skipped paths) at or under ``folder``."""
        prefix = folder.rstrip(os.sep) + os.sep
        with self.session() as s:
            indexed = [p for (p,) in s.execute(select(PhotoPath.path).where(
                (PhotoPath.path == folder) | (func.substr(PhotoPath.path, 1, len(prefix)) == prefix)))]
            skipped = [p for (p,) in s.execute(select(Skipped.path).where(
                (Skipped.path == folder) | (func.substr(Skipped.path, 1, len(prefix)) == prefix)))]
        return indexed, skipped

    def _link(self, s: Session, f: FileRef, photo_id: int) -> set[int]:
        """Point ``f.path`` at ``photo_id``; returns the photos whose paths changed."""
        row = s.execute(select(PhotoPath).where(PhotoPath.path == f.path)).scalar_one_or_none()
        s.execute(delete(Skipped).where(Skipped.path == f.path))
        if row is None:
            s.add(PhotoPath(path=f.path, photo_id=photo_id, size=f.size, mtime_ns=f.mtime_ns))
            return {photo_id}
        row.size, row.mtime_ns = f.size, f.mtime_ns
        if row.photo_id == photo_id:
            return set()
        old = row.photo_id
        row.photo_id = photo_id
        s.flush()
        self._drop_orphans(s, [old])
        return {photo_id, old}

    def _unlink_paths(self, s: Session, paths: Sequence[str]) -> int:
        owners: set[int] = set()
        for i in range(0, len(paths), 500):
            chunk = list(paths[i : i + 500])
            owners |= {pid for (pid,) in s.execute(select(PhotoPath.photo_id).where(PhotoPath.path.in_(chunk)))}
            s.execute(delete(PhotoPath).where(PhotoPath.path.in_(chunk)))
        removed = self._drop_orphans(s, owners)
        for pid in owners:
            self._refresh_words(s, pid)
        return removed

    def _drop_orphans(self, s: Session, photo_ids: Iterable[int]) -> int:
        ids = list(photo_ids)
        if not ids:
            return 0
        s.flush()
        still = {pid for (pid,) in s.execute(select(PhotoPath.photo_id).where(PhotoPath.photo_id.in_(ids)))}
        orphans = [pid for pid in ids if pid not in still]
        if orphans:
            s.execute(delete(Photo).where(Photo.id.in_(orphans)))  # parts and embeddings cascade
            self._bump_removals(s)
        return len(orphans)

    # ---- parts and embeddings -----------------------------------------------------------------

    def _add_parts(self, s: Session, photo_id: int, parts: Sequence[NewPart], model: str) -> None:
        for p in parts:
            row = Part(photo_id=photo_id, type=p.type, label=p.label, x0=p.box[0], y0=p.box[1], x1=p.box[2],
                       y1=p.box[3], confidence=p.confidence, text=p.text)
            s.add(row)
            s.flush()
            s.add(Embedding(part_id=row.id, model=model, modality=p.modality, vector=_pack(p.vector)))

    def photos_without_whole(self, model: str, limit: int | None = None) -> list[tuple[int, int, str]]:
        """(photo_id, whole part id, a path) for photos whose whole-photo vector is not in ``model``'s space."""
        has = select(Embedding.part_id).where(Embedding.model == model)
        stmt = (
            select(Part.photo_id, Part.id, func.min(PhotoPath.path))
            .join(PhotoPath, PhotoPath.photo_id == Part.photo_id)
            .where(Part.type == "whole", Part.id.not_in(has))
            .group_by(Part.id)
            .order_by(Part.photo_id)
            .limit(limit)
        )
        with self.session() as s:
            return [(a, b, c) for a, b, c in s.execute(stmt)]

    def set_whole_vectors(self, rows: Sequence[tuple[int, np.ndarray]], model: str) -> None:
        with self.session() as s, s.begin():
            for part_id, vec in rows:
                s.execute(delete(Embedding).where(Embedding.part_id == part_id))
                s.add(Embedding(part_id=part_id, model=model, modality="image", vector=_pack(vec)))
            self._bump_removals(s)

    def photos_needing_parts(self, parts_key: str, limit: int | None = None) -> list[tuple[int, str]]:
        stmt = (
            select(Photo.id, func.min(PhotoPath.path))
            .join(PhotoPath, PhotoPath.photo_id == Photo.id)
            .where((Photo.parts_key.is_(None)) | (Photo.parts_key != parts_key))
            .group_by(Photo.id)
            .order_by(Photo.id)
            .limit(limit)
        )
        with self.session() as s:
            return [(a, b) for a, b in s.execute(stmt)]

    def count_needing_parts(self, parts_key: str) -> int:
        with self.session() as s:
            return s.execute(select(func.count(Photo.id)).where(
                (Photo.parts_key.is_(None)) | (Photo.parts_key != parts_key))).scalar_one()

    def replace_parts(self, photo_id: int, parts: Sequence[NewPart], model: str, parts_key: str) -> bool:
        """Replace a photo's detected and OCR parts atomically; False if the photo is gone meanwhile."""
        with self.session() as s, s.begin():
            photo = s.get(Photo, photo_id)
            if photo is None:
                return False
            old = s.execute(select(func.count(Part.id)).where(Part.photo_id == photo_id, Part.type != "whole"))
            if old.scalar_one():
                s.execute(delete(Part).where(Part.photo_id == photo_id, Part.type != "whole"))
                self._bump_removals(s)
            self._add_parts(s, photo_id, parts, model)
            photo.parts_key = parts_key
            self._refresh_words(s, photo_id)
        return True

    def vectors(self, model: str, after_id: int = 0, types: Sequence[str] | None = None) -> VectorRows:
        stmt = (
            select(Embedding.id, Embedding.part_id, Part.photo_id, Part.type, Embedding.modality, Embedding.vector)
            .join(Part, Part.id == Embedding.part_id)
            .where(Embedding.model == model, Embedding.id > after_id)
            .order_by(Embedding.id)
        )
        if types is not None:
            stmt = stmt.where(Part.type.in_(list(types)))
        with self.session() as s:
            rows = s.execute(stmt).all()
        return _vector_rows(rows)

    def parts(self, part_ids: Iterable[int]) -> dict[int, PartRow]:
        ids = list(part_ids)
        out: dict[int, PartRow] = {}
        with self.session() as s:
            for i in range(0, len(ids), 500):
                for p in s.execute(select(Part).where(Part.id.in_(ids[i : i + 500]))).scalars():
                    out[p.id] = _part_row(p)
        return out

    def parts_of(self, photo_id: int) -> list[PartRow]:
        with self.session() as s:
            return [_part_row(p) for p in s.execute(select(Part).where(Part.photo_id == photo_id)
                                                    .order_by(Part.id)).scalars()]

    def photos(self, photo_ids: Iterable[int]) -> dict[int, dict[str, Any]]:
        ids = list(photo_ids)
        out: dict[int, dict[str, Any]] = {}
        with self.session() as s:
            for i in range(0, len(ids), 500):
                chunk = ids[i : i + 500]
                for p in s.execute(select(Photo).where(Photo.id.in_(chunk))).scalars():
                    out[p.id] = {"id": p.id, "hash": p.hash, "width": p.width, "height": p.height,
                                 "format": p.format, "taken_at": p.taken_at.isoformat() if p.taken_at else None,
                                 "camera": " ".join(x for x in (p.camera_make, p.camera_model) if x) or None,
                                 "gps": [p.gps_lat, p.gps_lon] if p.gps_lat is not None else None,
                                 "landmark": p.landmark, "landmark_p": p.landmark_p,
                                 "paths": []}
                for pid, path in s.execute(select(PhotoPath.photo_id, PhotoPath.path)
                                           .where(PhotoPath.photo_id.in_(chunk)).order_by(PhotoPath.path)):
                    out[pid]["paths"].append(path)
        return out

    # ---- landmarks ----------------------------------------------------------------------------

    def photos_needing_landmarks(self, head_key: str, model: str, limit: int = 4096) -> VectorRows:
        """Whole-photo vectors of photos not yet labelled by ``head_key``."""
        stmt = (
            select(Embedding.id, Embedding.part_id, Part.photo_id, Part.type, Embedding.modality, Embedding.vector)
            .join(Part, Part.id == Embedding.part_id).join(Photo, Photo.id == Part.photo_id)
            .where(Embedding.model == model, Part.type == "whole",
                   (Photo.landmark_head.is_(None)) | (Photo.landmark_head != head_key))
            .order_by(Photo.id).limit(limit)
        )
        with self.session() as s:
            rows = s.execute(stmt).all()
        return _vector_rows(rows)

    def count_needing_landmarks(self, head_key: str) -> int:
        with self.session() as s:
            return s.execute(select(func.count(Photo.id)).where(
                (Photo.landmark_head.is_(None)) | (Photo.landmark_head != head_key))).scalar_one()

    def gps(self, photo_ids: Sequence[int]) -> dict[int, tuple[float, float]]:
        out: dict[int, tuple[float, float]] = {}
        with self.session() as s:
            for i in range(0, len(photo_ids), 500):
                for pid, lat, lon in s.execute(select(Photo.id, Photo.gps_lat, Photo.gps_lon).where(
                        Photo.id.in_(list(photo_ids[i : i + 500])), Photo.gps_lat.is_not(None))):
                    out[pid] = (lat, lon)
        return out

    def set_landmarks(self, labels: Sequence[tuple[int, str | None, float | None, list[tuple[str, str, float, float | None]]]],
                      head_key: str) -> None:
        """labels: (photo_id, accepted name or None, its probability, top list of (key, name, p, km))."""
        with self.session() as s, s.begin():
            for photo_id, name, p, top in labels:
                photo = s.get(Photo, photo_id)
                if photo is None:
                    continue
                changed = photo.landmark != name
                photo.landmark, photo.landmark_p, photo.landmark_head = name, p, head_key
                s.execute(delete(PhotoLandmark).where(PhotoLandmark.photo_id == photo_id))
                for rank, (key, lname, prob, km) in enumerate(top):
                    s.add(PhotoLandmark(photo_id=photo_id, rank=rank, key=key, name=lname, probability=prob,
                                        distance_km=km))
                if changed:
                    s.flush()
                    self._refresh_words(s, photo_id)

    def landmark_counts(self) -> list[tuple[str, int]]:
        with self.session() as s:
            return [(n, c) for n, c in s.execute(
                select(Photo.landmark, func.count(Photo.id)).where(Photo.landmark.is_not(None))
                .group_by(Photo.landmark).order_by(func.count(Photo.id).desc(), Photo.landmark))]

    def photos_with_landmark(self, name: str) -> dict[int, float]:
        with self.session() as s:
            return {pid: p or 0.0 for pid, p in s.execute(
                select(Photo.id, Photo.landmark_p).where(func.lower(Photo.landmark) == name.strip().lower()))}

    def top_landmarks(self, photo_id: int) -> list[tuple[str, float, float | None]]:
        with self.session() as s:
            return [(n, p, d) for n, p, d in s.execute(
                select(PhotoLandmark.name, PhotoLandmark.probability, PhotoLandmark.distance_km)
                .where(PhotoLandmark.photo_id == photo_id).order_by(PhotoLandmark.rank))]

    # ---- browsing -----------------------------------------------------------------------------

    def photo_list(self, order: str = "date", landmark: str | None = None,
                   photo_ids: Sequence[int] | None = None) -> list[tuple[int, str, str | None]]:
        """(photo_id, first path, hash) of every photo (or of some), by date taken (undated last) or by path."""
        first_path = func.min(PhotoPath.path)
        stmt = select(Photo.id, first_path, Photo.hash).join(PhotoPath, PhotoPath.photo_id == Photo.id).group_by(Photo.id)
        if landmark is not None:
            stmt = stmt.where(func.lower(Photo.landmark) == landmark.lower())
        if photo_ids is not None:
            stmt = stmt.where(Photo.id.in_(list(photo_ids)))
        if order == "path":
            stmt = stmt.order_by(first_path)
        else:
            stmt = stmt.order_by(Photo.taken_at.is_(None), Photo.taken_at, first_path)
        with self.session() as s:
            return [(a, b, c) for a, b, c in s.execute(stmt)]

    # ---- keywords -----------------------------------------------------------------------------

    def _refresh_words(self, s: Session, photo_id: int) -> None:
        paths = [p for (p,) in s.execute(select(PhotoPath.path).where(PhotoPath.photo_id == photo_id))]
        texts = [t for (t,) in s.execute(select(Part.text).where(Part.photo_id == photo_id, Part.text.is_not(None)))]
        landmark = s.execute(select(Photo.landmark).where(Photo.id == photo_id)).scalar_one_or_none()
        words = " ".join([*(path_words(p) for p in paths), *texts, landmark or ""])
        s.execute(text("DELETE FROM photo_words WHERE rowid = :id"), {"id": photo_id})
        if paths:
            s.execute(text("INSERT INTO photo_words(rowid, words) VALUES (:id, :w)"), {"id": photo_id, "w": words})

    def keyword_hits(self, tokens: Sequence[str]) -> dict[int, int]:
        """photo_id -> how many of ``tokens`` (each a prefix match) its words contain."""
        hits: dict[int, int] = {}
        with self.session() as s:
            for tok in dict.fromkeys(tokens):
                q = '"' + tok.replace('"', '""') + '"*'
                for (rowid,) in s.execute(text("SELECT rowid FROM photo_words WHERE photo_words MATCH :q"), {"q": q}):
                    hits[rowid] = hits.get(rowid, 0) + 1
        return hits

    # ---- status -------------------------------------------------------------------------------

    def stats(self, parts_key: str | None = None, model: str | None = None) -> dict[str, Any]:
        with self.session() as s:
            photos = s.execute(select(func.count(Photo.id))).scalar_one()
            paths = s.execute(select(func.count(PhotoPath.id))).scalar_one()
            by_type = dict(s.execute(select(Part.type, func.count(Part.id)).where(Part.type != "whole")
                                     .group_by(Part.type).order_by(Part.type)).all())
            skipped = dict(s.execute(select(Skipped.reason, func.count()).group_by(Skipped.reason)).all())
            models = dict(s.execute(select(Embedding.model, func.count(Embedding.id)).group_by(Embedding.model)).all())
            whole_done = 0
            if model:
                whole_done = s.execute(select(func.count(Embedding.id)).join(Part, Part.id == Embedding.part_id)
                                       .where(Part.type == "whole", Embedding.model == model)).scalar_one()
            landmarks = s.execute(select(func.count(Photo.id)).where(Photo.landmark.is_not(None))).scalar_one()
            labelled = s.execute(select(func.count(Photo.id)).where(Photo.landmark_head.is_not(None))).scalar_one()
            parts_done = 0
            if parts_key:
                parts_done = s.execute(select(func.count(Photo.id)).where(Photo.parts_key == parts_key)).scalar_one()
        return {"photos": photos, "paths": paths, "parts": by_type, "skipped": skipped,
                "vectors_by_model": models, "whole_pass_done": whole_done, "parts_pass_done": parts_done,
                "landmarks_checked": labelled, "photos_with_landmark": landmarks}

    def skipped_list(self, limit: int = 50) -> list[tuple[str, str, str]]:
        with self.session() as s:
            return [(a, b, c) for a, b, c in s.execute(
                select(Skipped.path, Skipped.reason, Skipped.detail).order_by(Skipped.path).limit(limit))]


@dataclass(slots=True)
class ClusterRow:
    label: int
    name: str
    photos: int
    cover_photo_id: int | None


@dataclass(slots=True)
class Points:
    part_ids: np.ndarray
    photo_ids: np.ndarray
    labels: np.ndarray
    xyz: np.ndarray  # (n, 3) float32, NaN where not projected
    sampled: np.ndarray  # bool


class AnalysisStore:
    """Stored clusters and projections, with the signature of what they were computed from."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def run(self, kind: str) -> AnalysisRun | None:
        with self.store.session() as s:
            return s.get(AnalysisRun, kind)

    def save(self, kind: str, signature: str, params: dict[str, Any], seconds: float, points: Points,
             clusters: Sequence[ClusterRow] = ()) -> None:
        import json

        with self.store.session() as s, s.begin():
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
                s.execute(AnalysisPoint.__table__.insert(), rows)
            for c in clusters:
                s.add(Cluster(kind=kind, label=c.label, name=c.name, photos=c.photos, cover_photo_id=c.cover_photo_id))

    def clusters(self, kind: str) -> list[ClusterRow]:
        with self.store.session() as s:
            return [ClusterRow(c.label, c.name, c.photos, c.cover_photo_id) for c in
                    s.execute(select(Cluster).where(Cluster.kind == kind)).scalars()]

    def points(self, kind: str) -> Points:
        with self.store.session() as s:
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


def path_words(path: str) -> str:
    """The searchable words of a path: its file name without extension and its last three folders."""
    parts = Path(path).parts
    stem = Path(path).stem
    return " ".join([*parts[-4:-1], stem])


def _is_under(path: str, under: str) -> bool:
    return path == under or path.startswith(under.rstrip(os.sep) + os.sep)


def _vector_rows(rows: Sequence[Any]) -> VectorRows:
    if not rows:
        return VectorRows(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), [], [],
                          np.zeros((0, 0), np.float16))
    cols = list(zip(*rows, strict=True))
    matrix = np.frombuffer(b"".join(cols[5]), dtype=np.float16).reshape(len(rows), -1)
    return VectorRows(np.asarray(cols[0], np.int64), np.asarray(cols[1], np.int64),
                      np.asarray(cols[2], np.int64), list(cols[3]), list(cols[4]), matrix)


def _pack(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype=np.float16).tobytes()


def _part_row(p: Part) -> PartRow:
    return PartRow(p.id, p.photo_id, p.type, (p.x0, p.y0, p.x1, p.y1), p.confidence, p.label, p.text)


def _asdict(info: PhotoInfo) -> dict[str, Any]:
    return {k: getattr(info, k) for k in info.__slots__}  # type: ignore[attr-defined]


def _pragmas(dbapi_conn: Any, _record: Any) -> None:
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=30000")
    cur.close()
