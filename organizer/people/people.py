"""People: the library's faces grouped by person, named once, then searchable.

A named person is a label (the label store) whose members are face parts: everything labels do works for
people, and names survive re-runs as labels do. Nothing else is stored: the rest is computed from the face
descriptors each time, so it is always in step with the library:

- a face not yet named that is within ``faces.distance`` of a named person's face is *suggested* for that
  person (the nearest one), unless it was rejected for them; suggested faces count as the person's in
  search until confirmed or rejected;
- the other faces are grouped (Chinese whispers or DBSCAN); groups of at least ``faces.min_faces`` are the
  *unnamed* people, numbered largest first, waiting for a name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from organizer.errors import BadArgumentError
from organizer.parts import FACE
from organizer.people.grouping import groups, nearest
from organizer.settings import FaceSettings, Settings
from organizer.store.db import Store
from organizer.store.labels import LabelStore, find_names

SCHEMA = "organizer.people/1"


@dataclass(slots=True)
class Person:
    name: str | None  # None: an unnamed group
    number: int | None  # an unnamed group's number (`organizer people name N NAME`)
    faces: list[int]  # face part ids: a named person's confirmed faces, or the group's
    suggested: list[int] = field(default_factory=list)  # faces close to a named person's, unconfirmed
    photos: list[int] = field(default_factory=list)  # photos showing them (confirmed and suggested)
    cover: int | None = None  # the best-quality face (part id)

    @property
    def title(self) -> str:
        return self.name if self.name is not None else f"Unnamed {self.number}"


@dataclass(slots=True)
class Overview:
    people: list[Person]  # named (by name), then unnamed groups (largest first)
    faces: int  # faces with a descriptor
    ungrouped: int  # faces in no person and no group large enough
    unidentified: int  # faces too small to describe (boxes only)


@dataclass(slots=True)
class _State:
    part_ids: np.ndarray
    photo_ids: np.ndarray
    matrix: np.ndarray
    named: dict[int, str]  # face part -> person (confirmed)
    rejected: dict[int, set[str]]  # face part -> people it is not
    suggested: dict[int, str]  # face part -> person it looks like
    groups: list[np.ndarray]  # row indices of each unnamed group (numbered from 1 in this order)
    extra_photos: dict[str, set[int]]  # a person's photos through non-face members (a whole photo)


class People:
    def __init__(self, store: Store, labels: LabelStore, face_key: Callable[[], str | None],
                 settings: Settings) -> None:
        self.store = store
        self.labels = labels
        self._face_key = face_key  # the face descriptors' space, asked each time (settings can change it)
        self._settings = settings  # read at each use: the window's settings page applies changes at once

    @property
    def settings(self) -> FaceSettings:
        return self._settings.faces

    # ---- reading ------------------------------------------------------------------------------

    def _state(self, grouped: bool = False) -> _State:
        """The faces, who is named and suggested; with ``grouped``, also the unnamed groups (all pairs of the
        remaining faces: only the overview and the commands that take a group number need them)."""
        f = self.settings
        key = self._face_key()
        if key is not None:
            rows = self.store.vectors(key, types=[FACE])
            part_ids, photo_ids = rows.part_ids, rows.photo_ids
            matrix = rows.matrix.astype(np.float32) if len(part_ids) else np.zeros((0, 128), np.float32)
        else:
            part_ids = photo_ids = np.zeros(0, np.int64)
            matrix = np.zeros((0, 128), np.float32)
        named: dict[int, str] = {}
        rejected: dict[int, set[str]] = {}
        for name, pid, ok in self.labels.memberships(FACE):
            if ok:
                named.setdefault(pid, name)
            else:
                rejected.setdefault(pid, set()).add(name)
        people = sorted(set(named.values()), key=str.lower)
        row_named = np.array([int(p) in named for p in part_ids], bool)
        suggested: dict[int, str] = {}
        free = np.flatnonzero(~row_named)
        if people and len(free):
            known = np.flatnonzero(row_named)
            owner = [named[int(part_ids[k])] for k in known]
            j, d = nearest(matrix[free], matrix[known])
            for r, jj, dd in zip(free, j, d, strict=True):
                pid = int(part_ids[r])
                if dd >= f.distance:
                    continue
                who = owner[jj]
                if who in rejected.get(pid, ()):  # the nearest was said not to be them: look at the others
                    allowed = np.array([o not in rejected[pid] for o in owner])
                    j2, d2 = nearest(matrix[r:r + 1], matrix[known], allowed[None, :])
                    if j2[0] < 0 or d2[0] >= f.distance:
                        continue
                    who = owner[j2[0]]
                suggested[pid] = who
        rest = np.array([r for r in free if int(part_ids[r]) not in suggested], np.int64)
        found = [rest[g] for g in groups(matrix[rest], f.distance, f.grouping, f.min_faces)] \
            if grouped and len(rest) else []
        extra: dict[str, set[int]] = {}
        if people:
            faces_of = {int(p) for p in part_ids}
            for name in people:
                pos, _ = self.labels.members(name)
                others = [p for p in pos if p not in faces_of]
                if others:
                    extra[name] = {r.photo_id for r in self.store.parts(others).values() if r.type != FACE}
        return _State(part_ids, photo_ids, matrix, named, rejected, suggested, found, extra)

    def overview(self) -> Overview:
        st = self._state(grouped=True)
        row_of = {int(p): i for i, p in enumerate(st.part_ids)}
        quality = {p: q for p, (_, q) in self.store.face_infos(st.part_ids.tolist()).items()}
        by_name: dict[str, Person] = {}
        for pid, name in sorted(st.named.items()):
            by_name.setdefault(name, Person(name, None, [])).faces.append(pid)
        for pid, name in sorted(st.suggested.items()):
            by_name[name].suggested.append(pid)
        for name, extra in st.extra_photos.items():
            if name in by_name:
                by_name[name].photos = sorted(extra)
        people = [by_name[n] for n in sorted(by_name, key=str.lower)]
        for i, g in enumerate(st.groups, 1):
            people.append(Person(None, i, sorted(int(st.part_ids[r]) for r in g)))
        for p in people:
            faces = p.faces + p.suggested
            p.photos = sorted(set(p.photos) | {int(st.photo_ids[row_of[f]]) for f in faces if f in row_of})
            p.cover = max(p.faces or faces, key=lambda f: (quality.get(f, 0.0), -f), default=None)
        grouped = len(st.named) + len(st.suggested) + sum(len(g) for g in st.groups)
        total = self.store.count_parts(FACE)
        return Overview(people, len(st.part_ids), len(st.part_ids) - grouped, total - len(st.part_ids))

    def face_names(self, faces: Sequence[int]) -> dict[int, str]:
        """Who each face shows: a person's name, or "NAME?" where it is only suggested."""
        st = self._state()
        return {f: st.named[f] if f in st.named else f"{st.suggested[f]}?" for f in faces
                if f in st.named or f in st.suggested}

    def names(self) -> list[str]:
        return sorted({name for name, _, ok in self.labels.memberships(FACE) if ok}, key=str.lower)

    def named_in(self, text: str) -> tuple[list[str], str]:
        """The people ``text`` names, and the words left ("Grandma at the beach" -> [Grandma], "at the beach")."""
        return find_names(text, self.names())

    def photos_of(self, names: Sequence[str]) -> set[int]:
        """The photos showing every one of ``names`` (their confirmed and suggested faces)."""
        st = self._state()
        known = {n.lower(): n for n in set(st.named.values())}
        out: set[int] | None = None
        for name in names:
            who = known.get(name.strip().lower())
            if who is None:
                raise BadArgumentError(f"No person named '{name}' (`organizer people` lists them)")
            mine = {int(ph) for p, ph in zip(st.part_ids, st.photo_ids, strict=True)
                    if st.named.get(int(p)) == who or st.suggested.get(int(p)) == who}
            mine |= st.extra_photos.get(who, set())
            out = mine if out is None else out & mine
        return out or set()

    def suggestions(self, name: str) -> list[int]:
        """Faces that look like ``name``'s, nearest first, to confirm or reject."""
        who = self._person(name)
        st = self._state()
        faces = [p for p, n in st.suggested.items() if n == who]
        mine = np.flatnonzero(np.isin(st.part_ids, [p for p, n in st.named.items() if n == who]))
        rows = np.flatnonzero(np.isin(st.part_ids, faces))
        _, d = nearest(st.matrix[rows], st.matrix[mine])
        return [int(st.part_ids[r]) for _, r in sorted(zip(d.tolist(), rows.tolist(), strict=True))]

    # ---- naming -------------------------------------------------------------------------------

    def _person(self, name: str) -> str:
        known = {n.lower(): n for n in self.names()}
        who = known.get(name.strip().lower())
        if who is None:
            raise BadArgumentError(f"No person named '{name}' (`organizer people` lists them)")
        return who

    def _group(self, ref: str, st: _State) -> list[int]:
        if not ref.strip().isdigit():
            raise BadArgumentError(f"'{ref}' is neither a person nor an unnamed group's number")
        n = int(ref)
        if not 1 <= n <= len(st.groups):
            raise BadArgumentError(f"No unnamed group {n} (`organizer people` lists {len(st.groups)})")
        return [int(st.part_ids[r]) for r in st.groups[n - 1]]

    def name(self, ref: str, name: str) -> int:
        """Name an unnamed group (by number) or rename a person; a name already in use merges them.
        Returns how many faces now carry ``name``."""
        name = name.strip()
        if not name or name.isdigit():
            raise BadArgumentError("A person needs a name (numbers alone name unnamed groups)")
        names = {n.lower(): n for n in self.names()}
        if ref.strip().lower() in names:  # a person: rename (or merge into an existing name)
            old = names[ref.strip().lower()]
            if name.lower() in names and names[name.lower()] != old:
                self.labels.merge(old, names[name.lower()])
            elif name.lower() in {n.lower() for n in self.labels.names()} and name.lower() != old.lower():
                self.labels.merge(old, name)  # an ordinary label of that name: it becomes this person
            else:
                self.labels.rename(old, name)
            return len(self.labels.members(name)[0])
        faces = self._group(ref, self._state(grouped=True))
        self.labels.assign(name, faces)
        return len(faces)

    def merge(self, source: str, target: str) -> str:
        """Merge two people (names or unnamed group numbers); one of them needs a name. Returns the name kept."""
        names = {n.lower(): n for n in self.names()}
        a, b = names.get(source.strip().lower()), names.get(target.strip().lower())
        if a and b:
            if a != b:
                self.labels.merge(a, b)
            return b
        st = self._state(grouped=True)
        if b:
            self.labels.assign(b, self._group(source, st))
            return b
        if a:
            self.labels.assign(a, self._group(target, st))
            return a
        self._group(source, st), self._group(target, st)  # say which number is wrong, if one is
        raise BadArgumentError("Name one of the two groups first (`organizer people name N NAME`), then merge")

    def confirm(self, name: str, faces: Sequence[int]) -> int:
        """These faces are ``name`` (taken from whoever had them)."""
        self._check_faces(faces)
        return self.labels.assign(self._person(name), faces)

    def reject(self, name: str, faces: Sequence[int]) -> int:
        """These faces are not ``name``: out of the person if they were in, never suggested for them again."""
        self._check_faces(faces)
        return self.labels.add(self._person(name), faces, positive=False)

    def split(self, name: str, faces: Sequence[int]) -> int:
        """Move wrongly named faces out of ``name``: they go back to the unnamed faces (and are not
        suggested for ``name`` again)."""
        return self.reject(name, faces)

    def _check_faces(self, faces: Sequence[int]) -> None:
        if not faces:
            raise BadArgumentError("Give at least one face (face:ID, as `organizer people --faces` lists them)")
        rows = self.store.parts(faces)
        wrong = [f for f in faces if f not in rows or rows[f].type != FACE]
        if wrong:
            raise BadArgumentError(f"{wrong[0]} is not a face in the library")


def to_json(o: Overview, paths: dict[int, str], faces: bool = False) -> dict:
    """The versioned JSON form of ``organizer people`` (documented in the README)."""
    return {
        "schema": SCHEMA,
        "faces": o.faces, "ungrouped": o.ungrouped, "unidentified": o.unidentified,
        "people": [{
            "name": p.name, "group": p.number, "faces": len(p.faces), "suggested": len(p.suggested),
            "photos": len(p.photos), "cover_face": p.cover, "cover_path": paths.get(p.cover or -1),
            **({"face_ids": p.faces, "suggested_ids": p.suggested, "photo_ids": p.photos} if faces else {}),
        } for p in o.people],
    }
