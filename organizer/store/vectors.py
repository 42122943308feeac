"""Embeddings: whole-photo vectors stored by the first pass, read back in id order or by part."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from sqlalchemy import (
    delete,
    func,
    select,
)

from organizer.store.base import StoreBase
from organizer.store.records import (
    VectorRows,
)
from organizer.store.schema import (
    Embedding,
    Part,
    Photo,
    PhotoPath,
)
from organizer.store.sqlhelp import chunked, pack, shown_path, vector_rows


class VectorRepository(StoreBase):
    def photos_without_whole(self, model: str, limit: int | None = None) -> list[tuple[int, int, str]]:
        """(photo_id, whole part id, a path) for photos whose whole-photo vector is not in ``model``'s space,
        leaving out photos that are missing or that failed to read for this model."""
        has = select(Embedding.part_id).where(Embedding.model == model)
        stmt = (
            select(Part.photo_id, Part.id, shown_path())
            .join(PhotoPath, PhotoPath.photo_id == Part.photo_id)
            .join(Photo, Photo.id == Part.photo_id)
            .where(Part.type == "whole", Part.id.not_in(has), PhotoPath.missing_since.is_(None),
                   (Photo.whole_failed.is_(None)) | (Photo.whole_failed != model))
            .group_by(Part.id)
            .order_by(Part.photo_id)
            .limit(limit)
        )
        with self.read() as s:
            return [(a, b, c) for a, b, c in s.execute(stmt)]

    def set_whole_vectors(self, rows: Sequence[tuple[int, np.ndarray]], model: str) -> None:
        with self.tx() as s:
            for part_id, vec in rows:
                s.execute(delete(Embedding).where(Embedding.part_id == part_id))
                s.add(Embedding(part_id=part_id, model=model, modality="image", vector=pack(vec)))
            self._bump_removals(s)

    def vectors(self, model: str, after_id: int = 0, types: Sequence[str] | None = None,
                limit: int | None = None) -> VectorRows:
        """Stored vectors of ``model`` after embedding id ``after_id``, in id order (at most ``limit``)."""
        stmt = (
            select(Embedding.id, Embedding.part_id, Part.photo_id, Part.type, Embedding.modality, Embedding.vector)
            .join(Part, Part.id == Embedding.part_id)
            .where(Embedding.model == model, Embedding.id > after_id)
            .order_by(Embedding.id)
        )
        if types is not None:
            stmt = stmt.where(Part.type.in_(list(types)))
        if limit is not None:
            stmt = stmt.limit(limit)
        with self.read() as s:
            rows = s.execute(stmt).all()
        return vector_rows(rows)

    def vector_count(self, model: str) -> int:
        with self.read() as s:
            return int(s.execute(select(func.count(Embedding.id)).where(Embedding.model == model)).scalar_one())

    def vectors_of_parts(self, model: str, part_ids: Sequence[int] | np.ndarray) -> np.ndarray:
        """The float16 vectors of ``model`` for these parts, in their order (a part without one: zeros)."""
        found: dict[int, bytes] = {}
        with self.read() as s:
            for chunk in chunked([int(p) for p in part_ids]):
                found.update(s.execute(select(Embedding.part_id, Embedding.vector)
                                       .where(Embedding.model == model, Embedding.part_id.in_(chunk))).tuples().all())
        dim = len(next(iter(found.values()))) // 2 if found else 0
        out = np.zeros((len(part_ids), dim), np.float16)
        for i, p in enumerate(part_ids):
            if int(p) in found:
                out[i] = np.frombuffer(found[int(p)], np.float16)
        return out
