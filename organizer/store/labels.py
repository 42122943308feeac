"""The user's labels in the store: names, members (parts) and rejected suggestions."""

from __future__ import annotations

import builtins
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import delete, func, select

from organizer.errors import BadArgumentError
from organizer.store.db import Store
from organizer.store.schema import Embedding, Label, LabelMember, Part, PhotoPath


@dataclass(slots=True)
class LabelInfo:
    id: int
    name: str
    members: int
    photos: int
    rejected: int


class LabelStore:
    def __init__(self, store: Store) -> None:
        self.store = store

    def _get(self, s, name: str) -> Label:  # noqa: ANN001
        if not name.strip():
            raise BadArgumentError("A label needs a name (it was empty)")
        row = s.execute(select(Label).where(func.lower(Label.name) == name.strip().lower())).scalar_one_or_none()
        if row is None:
            raise BadArgumentError(f"No label named '{name}' (`organizer label list` shows them)")
        return row

    def add(self, name: str, part_ids: Sequence[int], positive: bool = True) -> int:
        """Put parts in a label (made on first use); returns how many were new."""
        name = name.strip()
        if not name:
            raise BadArgumentError("A label needs a name")
        with self.store.tx() as s:
            self.store.note_curation(s)
            row = s.execute(select(Label).where(func.lower(Label.name) == name.lower())).scalar_one_or_none()
            if row is None:
                row = Label(name=name)
                s.add(row)
                s.flush()
            new = 0
            for pid in dict.fromkeys(part_ids):
                old = s.get(LabelMember, (row.id, pid))
                if old is None:
                    s.add(LabelMember(label_id=row.id, part_id=pid, positive=positive))
                    new += 1
                else:
                    old.positive = positive
            return new

    def all_members(self, name: str) -> builtins.list[int]:
        """Every part in ``name``, confirmed or rejected (what renaming or deleting it changes)."""
        pos, neg = self.members(name)
        return [*pos, *neg]

    def remove(self, name: str, part_ids: Sequence[int] | None = None) -> None:
        with self.store.tx() as s:
            self.store.note_curation(s)
            row = self._get(s, name)
            if part_ids is None:
                s.delete(row)
            else:
                s.execute(delete(LabelMember).where(LabelMember.label_id == row.id,
                                                    LabelMember.part_id.in_(list(part_ids))))

    def rename(self, old: str, new: str) -> None:
        with self.store.tx() as s:
            self.store.note_curation(s)
            row = self._get(s, old)
            if not new.strip():
                raise BadArgumentError("A label needs a name: the new name is empty")
            clash = s.execute(select(Label).where(func.lower(Label.name) == new.strip().lower())).scalar_one_or_none()
            if clash is not None and clash.id != row.id:
                raise BadArgumentError(f"A label named '{new}' exists; merge them instead")
            row.name = new.strip()

    def merge(self, source: str, target: str) -> None:
        """Move the members of ``source`` into ``target`` and drop ``source``."""
        with self.store.tx() as s:
            self.store.note_curation(s)
            a, b = self._get(s, source), self._get(s, target)
            if a.id == b.id:
                return
            for m in s.execute(select(LabelMember).where(LabelMember.label_id == a.id)).scalars().all():
                if s.get(LabelMember, (b.id, m.part_id)) is None:
                    s.add(LabelMember(label_id=b.id, part_id=m.part_id, positive=m.positive))
            s.delete(a)

    def assign(self, name: str, part_ids: Sequence[int]) -> int:
        """Put parts in ``name`` and take them out of every other label they were a positive member of (a face
        shows one person: naming it moves it). Returns how many were not in ``name`` before."""
        with self.store.tx() as s:
            self.store.note_curation(s)
            wanted = name.strip().lower()
            for chunk in _chunks(part_ids):
                s.execute(delete(LabelMember).where(LabelMember.part_id.in_(chunk), LabelMember.positive.is_(True),
                                                    LabelMember.label_id.in_(select(Label.id).where(
                                                        func.lower(Label.name) != wanted))))
        return self.add(name, part_ids)

    def snapshot(self, part_ids: Sequence[int]) -> tuple[builtins.list[tuple[str, int, bool]], set[str]]:
        """What the labels say about these parts (every membership), and which labels exist: enough to undo
        a labelling (which may have moved a face from one person to another)."""
        with self.store.read() as s:
            rows = [(n, p, bool(ok)) for chunk in _chunks(part_ids) for n, p, ok in s.execute(
                select(Label.name, LabelMember.part_id, LabelMember.positive)
                .join(Label, Label.id == LabelMember.label_id).where(LabelMember.part_id.in_(chunk)))]
            names = set(s.execute(select(Label.name)).scalars())
        return rows, names

    def restore(self, snap: tuple[builtins.list[tuple[str, int, bool]], set[str]], part_ids: Sequence[int]) -> None:
        """Put these parts' memberships back as :meth:`snapshot` saw them; a label made since, now empty, goes."""
        rows, names = snap
        with self.store.tx() as s:
            self.store.note_curation(s)
            for chunk in _chunks(part_ids):
                s.execute(delete(LabelMember).where(LabelMember.part_id.in_(chunk)))
            ids = {n: i for i, n in s.execute(select(Label.id, Label.name))}
            for name, pid, ok in rows:
                if name not in ids:
                    lab = Label(name=name)
                    s.add(lab)
                    s.flush()
                    ids[name] = lab.id
                s.add(LabelMember(label_id=ids[name], part_id=pid, positive=ok))
            s.flush()
            for name, lid in ids.items():
                if name not in names and not s.execute(select(LabelMember.part_id).where(
                        LabelMember.label_id == lid).limit(1)).first():
                    s.execute(delete(Label).where(Label.id == lid))

    def memberships(self, part_type: str) -> builtins.list[tuple[str, int, bool]]:
        """(label name, part id, positive) of every membership of parts of one type."""
        with self.store.read() as s:
            return [(n, p, bool(ok)) for n, p, ok in s.execute(
                select(Label.name, LabelMember.part_id, LabelMember.positive)
                .join(Label, Label.id == LabelMember.label_id).join(Part, Part.id == LabelMember.part_id)
                .where(Part.type == part_type).order_by(func.lower(Label.name), LabelMember.part_id))]

    def list(self) -> builtins.list[LabelInfo]:
        with self.store.read() as s:
            labels = s.execute(select(Label).order_by(func.lower(Label.name))).scalars().all()
            out = []
            for lab in labels:
                rows = s.execute(select(LabelMember.positive, Part.photo_id).join(Part, Part.id == LabelMember.part_id)
                                 .where(LabelMember.label_id == lab.id)).all()
                pos = [pid for ok, pid in rows if ok]
                out.append(LabelInfo(lab.id, lab.name, len(pos), len(set(pos)), sum(1 for ok, _ in rows if not ok)))
            return out

    def names(self) -> builtins.list[str]:
        with self.store.read() as s:
            return list(s.execute(select(Label.name)).scalars())

    def members(self, name: str) -> tuple[builtins.list[int], builtins.list[int]]:
        """(positive part ids, rejected part ids)."""
        with self.store.read() as s:
            row = self._get(s, name)
            rows = s.execute(select(LabelMember.part_id, LabelMember.positive)
                             .where(LabelMember.label_id == row.id)).all()
        return [p for p, ok in rows if ok], [p for p, ok in rows if not ok]

    def concept(self, name: str, model: str, reject_weight: float = 0.25) -> np.ndarray | None:
        """The label's concept: the mean of its members' vectors, pushed away from rejected ones; unit length."""
        pos, neg = self.members(name)
        vp, vn = self._vectors(pos, model), self._vectors(neg, model)
        if not len(vp):
            return None
        c = vp.mean(0) - (reject_weight * vn.mean(0) if len(vn) else 0.0)
        n = float(np.linalg.norm(c))
        return (c / n).astype(np.float32) if n > 0 else None

    def _vectors(self, part_ids: Sequence[int], model: str) -> np.ndarray:
        if not part_ids:
            return np.zeros((0, 0), np.float32)
        with self.store.read() as s:
            blobs = list(s.execute(select(Embedding.vector).where(Embedding.model == model,
                                                                  Embedding.part_id.in_(list(part_ids)))).scalars())
        if not blobs:
            return np.zeros((0, 0), np.float32)
        return np.frombuffer(b"".join(blobs), np.float16).reshape(len(blobs), -1).astype(np.float32)

    def whole_parts(self, photo_ids: Sequence[int]) -> builtins.list[int]:
        """The whole-photo part of each photo (a photo's label membership is its whole part's)."""
        with self.store.read() as s:
            found = {pid: part for pid, part in s.execute(select(Part.photo_id, Part.id).where(
                Part.photo_id.in_(list(photo_ids)), Part.type == "whole"))}
        missing = [p for p in photo_ids if p not in found]
        if missing:
            raise BadArgumentError(f"No photo {missing[0]} in the library")
        return [found[p] for p in photo_ids]

    def known_parts(self, part_ids: Sequence[int]) -> builtins.list[int]:
        with self.store.read() as s:
            found = set(s.execute(select(Part.id).where(Part.id.in_(list(part_ids)))).scalars())
        missing = [p for p in part_ids if p not in found]
        if missing:
            raise BadArgumentError(f"No part {missing[0]} in the library")
        return list(part_ids)

    def resolve(self, items: Sequence[str]) -> builtins.list[int]:
        """Part ids for 'part:ID', 'photo:ID' or a photo's file path (its whole part)."""
        out = []
        with self.store.read() as s:
            for item in items:
                kind, _, value = item.partition(":")
                if kind == "part" and value.isdigit():
                    if not row_id(value) or s.get(Part, int(value)) is None:
                        raise BadArgumentError(f"No part {value} in the library")
                    out.append(int(value))
                    continue
                if kind == "photo" and value.isdigit():
                    if not row_id(value):
                        raise BadArgumentError(f"No photo {value} in the library")
                    photo_id = int(value)
                else:
                    from organizer.paths import normalise

                    found = s.execute(select(PhotoPath.photo_id).where(PhotoPath.path == normalise(item))).scalar()
                    if found is None:
                        raise BadArgumentError(f"'{item}' is not a photo in the library (give a file that was "
                                               "indexed, photo:ID or part:ID)")
                    photo_id = int(found)
                whole = s.execute(select(Part.id).where(Part.photo_id == photo_id, Part.type == "whole")).scalar()
                if whole is None:
                    raise BadArgumentError(f"No photo {photo_id} in the library")
                out.append(int(whole))
        return out


def row_id(digits: str) -> bool:
    """Whether a number typed as an id can be one (SQLite's ids are 64-bit; a larger number names nothing)."""
    return len(digits) <= 19 and 0 < int(digits) <= 2**63 - 1


def _chunks(items: Iterable[int], n: int = 500) -> Iterable[builtins.list[int]]:
    items = builtins.list(items)
    for i in range(0, len(items), n):
        yield items[i:i + n]


def find_names(text: str, names: Iterable[str]) -> tuple[builtins.list[str], str]:
    """The names (labels, people) that ``text`` mentions as whole words, longest first, and the words left."""
    found, rest = [], text
    for name in sorted(names, key=len, reverse=True):
        pattern = re.compile(r"(?<!\w)" + re.escape(name) + r"(?!\w)", re.IGNORECASE)
        if pattern.search(rest):
            found.append(name)
            rest = pattern.sub(" ", rest)
    return found, " ".join(rest.split())
