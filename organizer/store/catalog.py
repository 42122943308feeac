"""What the shells list and look up: photos, landmarks, the gallery's listing, keywords, stats,
skipped files."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from sqlalchemy import (
    case,
    delete,
    func,
    select,
    text,
)

from organizer.store.base import StoreBase
from organizer.store.records import (
    LibraryStats,
    PhotoRecord,
    PhotoRow,
    SkippedFile,
    VectorRows,
)
from organizer.store.schema import (
    Embedding,
    Part,
    Photo,
    PhotoLandmark,
    PhotoPath,
    Skipped,
)
from organizer.store.sqlhelp import chunked, shown_path, vector_rows


class CatalogRepository(StoreBase):
    def photos(self, photo_ids: Iterable[int]) -> dict[int, PhotoRecord]:
        out: dict[int, PhotoRecord] = {}
        with self.read() as s:
            for chunk in chunked(photo_ids):
                for p in s.execute(select(Photo).where(Photo.id.in_(chunk))).scalars():
                    out[p.id] = PhotoRecord(
                        p.id, p.hash, p.width, p.height, p.format, p.taken_at.isoformat() if p.taken_at else None,
                        " ".join(x for x in (p.camera_make, p.camera_model) if x) or None,
                        (float(p.gps_lat), float(p.gps_lon)) if p.gps_lat is not None and p.gps_lon is not None
                        else None,
                        p.landmark, p.landmark_p, place=p.place or None, duration=p.duration,
                        motion_offset=p.motion_offset, lens=p.lens)
                for pid, path, gone, role in s.execute(
                        select(PhotoPath.photo_id, PhotoPath.path, PhotoPath.missing_since, PhotoPath.role)
                        .where(PhotoPath.photo_id.in_(chunk)).order_by(PhotoPath.role.is_not(None), PhotoPath.path)):
                    (out[pid].missing_paths if gone is not None else out[pid].paths).append(path)
                    if role is not None:
                        out[pid].roles[path] = role
        for info in out.values():
            if not info.paths:  # every file missing: show where it was
                info.missing = True
                info.paths = list(info.missing_paths)
        return out

    def photos_needing_landmarks(self, head_key: str, model: str, limit: int = 4096) -> VectorRows:
        """Whole-photo vectors of photos not yet labelled by ``head_key``."""
        stmt = (
            select(Embedding.id, Embedding.part_id, Part.photo_id, Part.type, Embedding.modality, Embedding.vector)
            .join(Part, Part.id == Embedding.part_id).join(Photo, Photo.id == Part.photo_id)
            .where(Embedding.model == model, Part.type == "whole",
                   (Photo.landmark_head.is_(None)) | (Photo.landmark_head != head_key))
            .order_by(Photo.id).limit(limit)
        )
        with self.read() as s:
            rows = s.execute(stmt).all()
        return vector_rows(rows)

    def count_needing_landmarks(self, head_key: str, model: str | None = None) -> int:
        """Photos not yet labelled by ``head_key`` (with ``model``: only those with a whole vector in its space)."""
        stmt = select(func.count(Photo.id)).where((Photo.landmark_head.is_(None)) | (Photo.landmark_head != head_key))
        if model is not None:
            stmt = stmt.where(Photo.id.in_(select(Part.photo_id).join(Embedding, Embedding.part_id == Part.id)
                                           .where(Part.type == "whole", Embedding.model == model)))
        with self.read() as s:
            return s.execute(stmt).scalar_one()

    def gps(self, photo_ids: Sequence[int]) -> dict[int, tuple[float, float]]:
        out: dict[int, tuple[float, float]] = {}
        with self.read() as s:
            for chunk in chunked(photo_ids):
                for pid, lat, lon in s.execute(select(Photo.id, Photo.gps_lat, Photo.gps_lon).where(
                        Photo.id.in_(chunk), Photo.gps_lat.is_not(None), Photo.gps_lon.is_not(None))):
                    if lat is not None and lon is not None:
                        out[pid] = (float(lat), float(lon))
        return out

    def set_landmarks(self, labels: Sequence[tuple[int, str | None, float | None, list[tuple[str, str, float, float | None]]]],
                      head_key: str) -> None:
        """labels: (photo_id, accepted name or None, its probability, top list of (key, name, p, km))."""
        with self.tx() as s:
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

    def count_landmarks_unchecked(self) -> int:
        """Photos no landmark head has looked at yet."""
        return self._count_photos(Photo.landmark_head.is_(None))

    def landmark_counts(self) -> list[tuple[str, int]]:
        with self.read() as s:
            return [(str(n), int(c)) for n, c in s.execute(
                select(Photo.landmark, func.count(Photo.id)).where(Photo.landmark.is_not(None))
                .group_by(Photo.landmark).order_by(func.count(Photo.id).desc(), Photo.landmark))]

    def photos_with_landmark(self, name: str) -> dict[int, float]:
        with self.read() as s:
            return {pid: p or 0.0 for pid, p in s.execute(
                select(Photo.id, Photo.landmark_p).where(func.lower(Photo.landmark) == name.strip().lower()))}

    def top_landmarks(self, photo_id: int) -> list[tuple[str, float, float | None]]:
        with self.read() as s:
            return [(n, p, d) for n, p, d in s.execute(
                select(PhotoLandmark.name, PhotoLandmark.probability, PhotoLandmark.distance_km)
                .where(PhotoLandmark.photo_id == photo_id).order_by(PhotoLandmark.rank))]

    def photo_list(self, order: str = "date", landmark: str | None = None,
                   photo_ids: Sequence[int] | None = None) -> list[PhotoRow]:
        """(photo_id, first path, hash) of every photo (or of some), by date taken (undated last) or by path.
        The first path is a present one where the photo has any."""
        first_path = shown_path()
        present = func.max(case((PhotoPath.missing_since.is_(None), 1), else_=0))
        raw = func.max(case((PhotoPath.role == "raw", 1), else_=0))
        live = func.max(case((PhotoPath.role == "motion", 1), (Photo.motion_offset.is_not(None), 1), else_=0))
        stmt = (select(Photo.id, first_path, Photo.hash, present, Photo.taken_at, Photo.duration, raw, live)
                .join(PhotoPath, PhotoPath.photo_id == Photo.id).group_by(Photo.id))
        if landmark is not None:
            stmt = stmt.where(func.lower(Photo.landmark) == landmark.lower())
        if photo_ids is not None:
            stmt = stmt.where(Photo.id.in_(list(photo_ids)))
        if order == "path":
            stmt = stmt.order_by(first_path)
        elif order == "newest":
            stmt = stmt.order_by(Photo.taken_at.is_(None), Photo.taken_at.desc(), first_path)
        else:
            stmt = stmt.order_by(Photo.taken_at.is_(None), Photo.taken_at, first_path)
        with self.read() as s:
            return [PhotoRow(a, b, c, not d, t.isoformat() if t else None, u, bool(r), bool(m))
                    for a, b, c, d, t, u, r, m in s.execute(stmt)]

    def keyword_hits(self, tokens: Sequence[str]) -> dict[int, int]:
        """photo_id -> how many of ``tokens`` (each a prefix match) its words contain."""
        hits: dict[int, int] = {}
        with self.read() as s:
            for tok in dict.fromkeys(tokens):
                q = '"' + tok.replace('"', '""') + '"*'
                for (rowid,) in s.execute(text("SELECT rowid FROM photo_words WHERE photo_words MATCH :q"), {"q": q}):
                    hits[rowid] = hits.get(rowid, 0) + 1
        return hits

    def exact_hits(self, tokens: Sequence[str]) -> set[int]:
        """The photos whose words hold every one of ``tokens`` as a whole word (not a prefix): the query names
        their file, folder, place, landmark or a word on them."""
        found: set[int] | None = None
        with self.read() as s:
            for tok in dict.fromkeys(tokens):
                q = '"' + tok.replace('"', '""') + '"'
                mine = {rowid for (rowid,) in s.execute(
                    text("SELECT rowid FROM photo_words WHERE photo_words MATCH :q"), {"q": q})}
                found = mine if found is None else found & mine
                if not found:
                    return set()
        return found or set()

    def stats(self, parts_key: str | None = None, model: str | None = None) -> LibraryStats:
        present = select(PhotoPath.photo_id).where(PhotoPath.missing_since.is_(None))
        with self.read() as s:
            photos = s.execute(select(func.count(Photo.id))).scalar_one()
            paths = s.execute(select(func.count(PhotoPath.id))).scalar_one()
            missing_paths = s.execute(select(func.count(PhotoPath.id)).where(
                PhotoPath.missing_since.is_not(None))).scalar_one()
            missing = s.execute(select(func.count(Photo.id)).where(Photo.id.not_in(present))).scalar_one()
            by_type = dict(s.execute(select(Part.type, func.count(Part.id)).where(Part.type != "whole")
                                     .group_by(Part.type).order_by(Part.type)).all())
            skipped = dict(s.execute(select(Skipped.reason, func.count()).group_by(Skipped.reason)).all())
            models = dict(s.execute(select(Embedding.model, func.count(Embedding.id)).group_by(Embedding.model)).all())
            whole_done = whole_failed = 0
            if model:
                whole_done = s.execute(select(func.count(Embedding.id)).join(Part, Part.id == Embedding.part_id)
                                       .where(Part.type == "whole", Embedding.model == model)).scalar_one()
                whole_failed = s.execute(select(func.count(Photo.id)).where(Photo.whole_failed == model)).scalar_one()
            landmarks = s.execute(select(func.count(Photo.id)).where(Photo.landmark.is_not(None))).scalar_one()
            labelled = s.execute(select(func.count(Photo.id)).where(Photo.landmark_head.is_not(None))).scalar_one()
            parts_done = parts_failed = 0
            if parts_key:
                parts_done = s.execute(select(func.count(Photo.id)).where(Photo.parts_key == parts_key)).scalar_one()
                parts_failed = s.execute(select(func.count(Photo.id)).where(
                    Photo.parts_failed == parts_key, (Photo.parts_key.is_(None)) | (Photo.parts_key != parts_key))
                ).scalar_one()
        return LibraryStats(photos, paths, missing, missing_paths, by_type, skipped, models, whole_done, whole_failed,
                            parts_done, parts_failed, labelled, landmarks)

    def skipped_count(self) -> int:
        with self.read() as s:
            return s.execute(select(func.count()).select_from(Skipped)).scalar_one()

    def skipped_list(self, limit: int = 50) -> list[SkippedFile]:
        with self.read() as s:
            return [SkippedFile(a, b, c) for a, b, c in s.execute(
                select(Skipped.path, Skipped.reason, Skipped.detail).order_by(Skipped.path).limit(limit))]
