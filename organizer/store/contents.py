"""Parts and faces: what each pass still has to do, the parts and faces it stores, places from GPS."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import (
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from organizer.parts import Box, iou
from organizer.store.base import StoreBase
from organizer.store.records import (
    NewPart,
    PartRow,
)
from organizer.store.schema import (
    FaceInfo,
    LabelMember,
    Part,
    Photo,
    PhotoPath,
)
from organizer.store.sqlhelp import chunked, part_row, shown_path


class ContentRepository(StoreBase):
    def mark_failed(self, photo_ids: Sequence[int], whole: str | None = None, parts: str | None = None,
                    faces: str | None = None) -> None:
        """A pass could not read these photos' files: done for this key (retried when the file is seen again)."""
        values = {k: v for k, v in (("whole_failed", whole), ("parts_failed", parts), ("faces_failed", faces))
                  if v is not None}
        with self.tx() as s:
            for chunk in chunked(photo_ids):
                s.execute(update(Photo).where(Photo.id.in_(chunk)).values(**values))

    @staticmethod
    def _needing(done: Any, failed: Any, key: str) -> Any:
        """SQL: present photos a pass keyed ``key`` has neither done (column ``done``) nor failed on."""
        present = select(PhotoPath.photo_id).where(PhotoPath.missing_since.is_(None))
        return ((done.is_(None)) | (done != key)) & ((failed.is_(None)) | (failed != key)) & Photo.id.in_(present)

    def _needing_parts(self, parts_key: str) -> Any:
        return self._needing(Photo.parts_key, Photo.parts_failed, parts_key)

    def _needing_faces(self, faces_key: str) -> Any:
        return self._needing(Photo.faces_key, Photo.faces_failed, faces_key)

    def photos_needing_parts(self, parts_key: str, limit: int | None = None) -> list[tuple[int, str]]:
        return self._with_a_path(self._needing_parts(parts_key), limit)

    def photos_needing_faces(self, faces_key: str, limit: int | None = None) -> list[tuple[int, str]]:
        return self._with_a_path(self._needing_faces(faces_key), limit)

    def count_needing_parts(self, parts_key: str) -> int:
        return self._count_photos(self._needing_parts(parts_key))

    def count_needing_faces(self, faces_key: str) -> int:
        return self._count_photos(self._needing_faces(faces_key))

    def _with_a_path(self, needing: Any, limit: int | None) -> list[tuple[int, str]]:
        """(photo id, a present path) of the photos ``needing`` selects, by id."""
        stmt = (
            select(Photo.id, shown_path())
            .join(PhotoPath, PhotoPath.photo_id == Photo.id)
            .where(needing, PhotoPath.missing_since.is_(None))
            .group_by(Photo.id)
            .order_by(Photo.id)
            .limit(limit)
        )
        with self.read() as s:
            return [(a, b) for a, b in s.execute(stmt)]

    def gps_points(self, unplaced: bool = False, limit: int | None = None) -> list[tuple[int, float, float]]:
        """(photo id, latitude, longitude) of every photo with GPS (``unplaced``: whose place was not looked
        up yet), by id."""
        stmt = select(Photo.id, Photo.gps_lat, Photo.gps_lon).where(Photo.gps_lat.is_not(None),
                                                                   Photo.gps_lon.is_not(None))
        if unplaced:
            stmt = stmt.where(Photo.place.is_(None))
        with self.read() as s:
            return [(a, float(b or 0.0), float(c or 0.0)) for a, b, c in s.execute(stmt.order_by(Photo.id).limit(limit))]

    def set_places(self, rows: Sequence[tuple[int, str, str]]) -> None:
        """(photo id, place name or "" for none near, search words); the words join the keyword index."""
        with self.tx() as s:
            for pid, name, words in rows:
                s.execute(update(Photo).where(Photo.id == pid).values(place=name, place_words=words))
                self._refresh_words(s, pid)

    def count_faces_done(self, faces_key: str) -> int:
        """Photos the faces pass has looked at with this key (or could not read)."""
        return self._count_photos((Photo.faces_key == faces_key) | (Photo.faces_failed == faces_key))

    def person_boxes(self, photo_ids: Sequence[int]) -> dict[int, list[Box]]:
        """The detector's person boxes of each photo (where the faces pass looks first)."""
        out: dict[int, list[Box]] = {p: [] for p in photo_ids}
        with self.read() as s:
            for chunk in chunked(photo_ids):
                for pid, *box in s.execute(select(Part.photo_id, Part.x0, Part.y0, Part.x1, Part.y1).where(
                        Part.photo_id.in_(chunk), Part.type == "person")):
                    out[pid].append(tuple(box))  # type: ignore[arg-type]
        return out

    def face_infos(self, part_ids: Iterable[int]) -> dict[int, tuple[list[list[float]], float]]:
        """Landmarks and quality of face parts."""
        out: dict[int, tuple[list[list[float]], float]] = {}
        with self.read() as s:
            for chunk in chunked(part_ids):
                for pid, lm, q in s.execute(select(FaceInfo.part_id, FaceInfo.landmarks, FaceInfo.quality)
                                            .where(FaceInfo.part_id.in_(chunk))):
                    out[pid] = (json.loads(lm), float(q))
        return out

    def replace_parts(self, photo_id: int, parts: Sequence[NewPart], model: str, parts_key: str) -> bool:
        """Replace a photo's detected and OCR parts atomically; False if the photo is gone meanwhile.

        Labels on the old parts are the user's work and move: each to the new part of the same type with
        the best box overlap (IoU >= 0.5), or else to the whole photo."""
        with self.tx() as s:
            photo = s.get(Photo, photo_id)
            if photo is None:
                return False
            old = s.execute(select(Part).where(Part.photo_id == photo_id,
                                               Part.type.not_in(["whole", "face", "frame"]))).scalars().all()
            self._swap_parts(s, photo_id, old, parts, model)
            photo.parts_key = parts_key
            photo.parts_failed = None
            photo.faces_key = None  # the person boxes faces are searched in may have changed
            self._refresh_words(s, photo_id)
        return True

    def replace_frames(self, photo_id: int, frames: Sequence[NewPart], model: str) -> bool:
        """Put a video's embedded frames (parts of type "frame", each at its time) in place of those it had;
        False if the video is gone meanwhile."""
        with self.tx() as s:
            photo = s.get(Photo, photo_id)
            if photo is None:
                return False
            old = s.execute(select(Part).where(Part.photo_id == photo_id, Part.type == "frame")).scalars().all()
            self._swap_parts(s, photo_id, old, frames, model)
            photo.frames_key = model
        return True

    def videos_needing_frames(self, model: str, longer_than: float) -> list[tuple[int, str, float]]:
        """(photo id, a present path, duration) of the videos longer than ``longer_than`` seconds whose frames
        are not embedded in ``model``'s space yet."""
        needing = (Photo.duration > longer_than) & ((Photo.frames_key.is_(None)) | (Photo.frames_key != model))
        stmt = (select(Photo.id, shown_path(), Photo.duration).join(PhotoPath, PhotoPath.photo_id == Photo.id)
                .where(needing, PhotoPath.missing_since.is_(None)).group_by(Photo.id).order_by(Photo.id))
        with self.read() as s:
            return [(pid, path, float(d or 0.0)) for pid, path, d in s.execute(stmt)]

    def replace_faces(self, photo_id: int, faces: Sequence[NewPart], faces_key: str) -> bool:
        """Replace a photo's faces atomically (names move to the new face over the old one); False if the
        photo is gone meanwhile."""
        with self.tx() as s:
            photo = s.get(Photo, photo_id)
            if photo is None:
                return False
            old = s.execute(select(Part).where(Part.photo_id == photo_id, Part.type == "face")).scalars().all()
            self._swap_parts(s, photo_id, old, faces, "")
            photo.faces_key = faces_key
            photo.faces_failed = None
        return True

    def _swap_parts(self, s: Session, photo_id: int, old: Sequence[Part], parts: Sequence[NewPart],
                    model: str) -> None:
        """Add ``parts`` and delete ``old``. Labels on the old parts are the user's work and move: each to the
        new part of the same type with the best box overlap (IoU >= 0.5), or else to the whole photo."""
        labelled = {m for (m,) in s.execute(select(LabelMember.part_id).where(
            LabelMember.part_id.in_([p.id for p in old])))} if old else set()
        new_ids = self._add_parts(s, photo_id, parts, model)
        if labelled:
            whole = s.execute(select(Part.id).where(Part.photo_id == photo_id, Part.type == "whole")).scalar_one()
            moves = {}
            for p in old:
                if p.id not in labelled:
                    continue
                box = (p.x0, p.y0, p.x1, p.y1)
                best = max(((iou(box, n.box), nid) for n, nid in zip(parts, new_ids, strict=True)
                            if n.type == p.type), default=(0.0, whole))
                moves[p.id] = best[1] if best[0] >= 0.5 else whole
            self._move_members(s, moves)
            self.note_curation(s)
        if old:
            s.execute(delete(Part).where(Part.id.in_([p.id for p in old])))
            self._bump_removals(s)

    def parts(self, part_ids: Iterable[int]) -> dict[int, PartRow]:
        out: dict[int, PartRow] = {}
        with self.read() as s:
            for chunk in chunked(part_ids):
                for p in s.execute(select(Part).where(Part.id.in_(chunk))).scalars():
                    out[p.id] = part_row(p)
        return out

    def parts_of(self, photo_id: int) -> list[PartRow]:
        with self.read() as s:
            return [part_row(p) for p in s.execute(select(Part).where(Part.photo_id == photo_id)
                                                    .order_by(Part.id)).scalars()]

    def part_ids_of_type(self, part_type: str) -> list[int]:
        with self.read() as s:
            return list(s.execute(select(Part.id).where(Part.type == part_type).order_by(Part.id)).scalars())

    def count_parts(self, part_type: str) -> int:
        with self.read() as s:
            return s.execute(select(func.count(Part.id)).where(Part.type == part_type)).scalar_one()
