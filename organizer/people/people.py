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

import contextlib
from collections.abc import Callable, Iterable, Sequence
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
    # an unnamed group's number (`organizer people name N NAME`): the id of its first face, so it keeps meaning
    # the same faces when other groups are named, merged or split
    number: int | None
    faces: list[int]  # face part ids: a named person's confirmed faces, or the group's
    suggested: list[int] = field(default_factory=list)  # faces close to a named person's, unconfirmed
    photos: list[int] = field(default_factory=list)  # photos showing them (confirmed and suggested)
    cover: int | None = None  # the best-quality face (part id)

    @property
    def title(self) -> str:
        return self.name if self.name is not None else f"Unnamed {self.number}"


@dataclass(slots=True)
class Overview:
    people: list[Person]  # named (by name), then unnamed groups (largest first; with ``singles``, one-face ones too)
    faces: int  # faces with a descriptor
    ungrouped: int  # faces in no person and no group large enough (each can still be named by its number)
    unidentified: int  # faces too small to describe (boxes only)
    small: list[int] = field(default_factory=list)  # those faces (part ids), named with `label add NAME part:ID`


@dataclass(slots=True)
class _State:
    part_ids: np.ndarray
    photo_ids: np.ndarray
    matrix: np.ndarray
    named: dict[int, str]  # face part -> person (confirmed)
    rejected: dict[int, set[str]]  # face part -> people it is not
    suggested: dict[int, str]  # face part -> person it looks like
    groups: list[np.ndarray]  # row indices of each unnamed group of at least min_faces faces, largest first
    singles: list[np.ndarray]  # row indices of the faces in no such group, each a group of its own to name
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
        in_group = {int(r) for g in found for r in g}
        singles = [np.array([r], np.int64) for r in rest if int(r) not in in_group] if grouped else []
        extra: dict[str, set[int]] = {}
        if people:
            faces_of = {int(p) for p in part_ids}
            for name in people:
                pos, _ = self.labels.members(name)
                others = [p for p in pos if p not in faces_of]
                if others:
                    extra[name] = {r.photo_id for r in self.store.parts(others).values() if r.type != FACE}
        return _State(part_ids, photo_ids, matrix, named, rejected, suggested, found, singles, extra)

    @staticmethod
    def _numbered(st: _State, singles: bool = True) -> dict[int, list[int]]:
        """Every unnamed group (and, with ``singles``, every face in none) by its number: its first face's id."""
        out: dict[int, list[int]] = {}
        for g in [*st.groups, *(st.singles if singles else [])]:
            faces = sorted(int(st.part_ids[r]) for r in g)
            out[faces[0]] = faces
        return out

    def overview(self, singles: bool = False) -> Overview:
        """Named people, then unnamed groups; ``singles``: also every face like no other yet, one group each."""
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
        for number, faces in self._numbered(st, singles).items():
            people.append(Person(None, number, faces))
        for p in people:
            faces = p.faces + p.suggested
            p.photos = sorted(set(p.photos) | {int(st.photo_ids[row_of[f]]) for f in faces if f in row_of})
            p.cover = max(p.faces or faces, key=lambda f: (quality.get(f, 0.0), -f), default=None)
        grouped = len(st.named) + len(st.suggested) + sum(len(g) for g in st.groups)
        small = sorted(set(self.store.part_ids_of_type(FACE)) - {int(p) for p in st.part_ids})
        return Overview(people, len(st.part_ids), len(st.part_ids) - grouped, len(small), small)

    def face_names(self, faces: Sequence[int]) -> dict[int, str]:
        """Who each face shows: a person's name, or "NAME?" where it is only suggested."""
        st = self._state()
        return {f: st.named[f] if f in st.named else f"{st.suggested[f]}?" for f in faces
                if f in st.named or f in st.suggested}

    def names(self) -> list[str]:
        return sorted({name for name, _, ok in self.labels.memberships(FACE) if ok}, key=str.lower)

    def named_in(self, text: str) -> tuple[list[str], str]:
        """The people ``text`` names, and the words left ("Grandma at the beach" -> [Grandma], "at the beach").
        A first name or a surname alone names the one person who has it ("Obama" -> Barack Obama)."""
        names = self.names()
        found, rest = find_names(text, names)
        words = _name_words(n for n in names if n not in found)
        for word, who in words.items():
            more, left = find_names(rest, [word])
            if more:
                found.append(who)
                rest = left
        return found, rest

    def photos_of(self, names: Sequence[str]) -> set[int]:
        """The photos showing every one of ``names`` (their confirmed and suggested faces)."""
        st = self._state()
        out: set[int] | None = None
        for name in names:
            who = person_called(name, set(st.named.values()))
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
        who = person_called(name, self.names())
        if who is None:
            raise BadArgumentError(f"No person named '{name}' (`organizer people` lists them)")
        return who

    def _group(self, ref: str, st: _State) -> list[int]:
        """The faces of the unnamed group numbered ``ref`` (its first face's id, as `organizer people` lists it):
        the same faces as when listed, whatever was named since; refused when that group is gone."""
        digits = ref.strip()
        if not digits.isdigit():
            raise BadArgumentError(f"'{ref}' is neither a person nor an unnamed group's number")
        found = self._numbered(st).get(int(digits)) if len(digits) <= 19 else None
        if found is None:
            raise BadArgumentError(f"No unnamed group {digits} now: its faces were named or regrouped since it was "
                                   "listed; `organizer people` lists the groups as they are")
        return found

    def touched(self, *refs: str) -> list[int]:
        """The faces (and other members) an action on these people or groups may change: what undo keeps."""
        st = self._state(grouped=True)
        names = self.names()
        parts: set[int] = set()
        for ref in refs:
            who = person_called(ref, names)
            if who is not None:
                pos, neg = self.labels.members(who)
                parts |= set(pos) | set(neg)
            elif ref.strip().isdigit() and len(ref.strip()) <= 19:
                parts |= set(self._numbered(st).get(int(ref.strip()), []))
            elif ref.strip():
                with contextlib.suppress(BadArgumentError):
                    pos, neg = self.labels.members(ref)
                    parts |= set(pos) | set(neg)
        return sorted(parts)

    def name(self, ref: str, name: str, merge: bool = False) -> Named:
        """Name an unnamed group (by number) or rename a person. A name already in use merges them only with
        ``merge`` (the window asks first; the CLI needs --merge); else :class:`NameInUseError`. Faces in a photo
        where the person already is are left out (one person shows once in a photo)."""
        name = name.strip()
        if not name or name.isdigit():
            raise BadArgumentError("A person needs a name (numbers alone name unnamed groups)")
        names = {n.lower(): n for n in self.names()}
        taken = names.get(name.lower())
        if ref.strip().lower() in names:  # a person: rename (or merge into an existing name)
            old = names[ref.strip().lower()]
            if taken is not None and taken != old:
                if not merge:
                    raise NameInUseError(taken, len(self.labels.members(taken)[0]))
                self.labels.merge(old, taken)
                return Named(taken, len(self.labels.members(taken)[0]), merged=True)
            if name.lower() in {n.lower() for n in self.labels.names()} and name.lower() != old.lower():
                if not merge:
                    raise NameInUseError(name, 0, label=True)
                self.labels.merge(old, name)  # an ordinary label of that name: it becomes this person
            else:
                self.labels.rename(old, name)
            return Named(name, len(self.labels.members(name)[0]), merged=False)
        faces = self._group(ref, self._state(grouped=True))
        if taken is not None and not merge:
            raise NameInUseError(taken, len(self.labels.members(taken)[0]))
        kept, left = self._one_per_photo(taken or name, faces)
        self.labels.assign(taken or name, kept)
        return Named(taken or name, len(self.labels.members(taken or name)[0]), merged=taken is not None,
                     left_out=left)

    def _one_per_photo(self, name: str, faces: Sequence[int]) -> tuple[list[int], list[int]]:
        """``faces`` split into those that can be ``name`` and those in a photo where ``name`` already is (or where
        another of these faces is, the better one kept)."""
        rows = self.store.parts(faces)
        pos: list[int] = []
        with contextlib.suppress(BadArgumentError):  # a new name: no label yet
            pos, _ = self.labels.members(name)
        taken = {r.photo_id for r in self.store.parts([p for p in pos if p not in rows]).values()
                 if r.type == FACE}
        quality = {p: q for p, (_, q) in self.store.face_infos(list(rows)).items()}
        kept, left = [], []
        for f in sorted(rows, key=lambda f: (-quality.get(f, 0.0), f)):
            if rows[f].photo_id in taken:
                left.append(f)
            else:
                kept.append(f)
                taken.add(rows[f].photo_id)
        return sorted(kept), sorted(left)

    def merge(self, source: str, target: str) -> str:
        """Merge two people (names or unnamed group numbers); one of them needs a name. Returns the name kept."""
        names = self.names()
        a, b = person_called(source, names), person_called(target, names)
        if a and b:
            if a == b:
                raise BadArgumentError(f"'{source}' and '{target}' are the same person: nothing to merge")
            self.labels.merge(a, b)
            return b
        st = self._state(grouped=True)
        if source.strip() == target.strip():
            raise BadArgumentError(f"'{source}' twice: nothing to merge")
        if b:
            self.labels.assign(b, self._group(source, st))
            return b
        if a:
            self.labels.assign(a, self._group(target, st))
            return a
        self._group(source, st), self._group(target, st)  # say which number is wrong, if one is
        raise BadArgumentError("Name one of the two groups first (`organizer people name N NAME`), then merge")

    def confirm(self, name: str, faces: Sequence[int]) -> dict[int, str | None]:
        """These faces are ``name`` (taken from whoever had them). Returns who each was before (None: nobody)."""
        self._check_faces(faces)
        who = self._person(name)
        st = self._state()
        before = {f: st.named.get(f) for f in faces}
        self.labels.assign(who, faces)
        return before

    def reject(self, name: str, faces: Sequence[int]) -> int:
        """These faces are not ``name``: out of the person if they were in, never suggested for them again."""
        self._check_faces(faces)
        return self.labels.add(self._person(name), faces, positive=False)

    def split(self, name: str, faces: Sequence[int]) -> int:
        """Move wrongly named faces out of ``name``: they go back to the unnamed faces (and are not
        suggested for ``name`` again). Faces that are not ``name``'s are refused."""
        who = self._person(name)
        self._check_faces(faces)
        st = self._state()
        theirs = [f for f in faces if st.named.get(f) == who or st.suggested.get(f) == who]
        stray = [f for f in faces if f not in theirs]
        if stray:
            raise BadArgumentError(f"face:{stray[0]} is not {who}'s (`organizer people --faces` lists whose each is); "
                                   "nothing was moved")
        return self.reject(who, faces)

    def _check_faces(self, faces: Sequence[int]) -> None:
        if not faces:
            raise BadArgumentError("Give at least one face (face:ID, as `organizer people --faces` lists them)")
        rows = self.store.parts(faces)
        wrong = [f for f in faces if f not in rows or rows[f].type != FACE]
        if wrong:
            raise BadArgumentError(f"{wrong[0]} is not a face in the library")


class NameInUseError(BadArgumentError):
    """Naming would merge with a person (or label) of that name: asked first, never done silently."""

    def __init__(self, name: str, faces: int, label: bool = False) -> None:
        self.name = name
        self.faces = faces
        what = "a label" if label else f"a person ({faces} faces)"
        super().__init__(f"'{name}' is already {what}: naming these faces so merges them into it. Add --merge to "
                         "merge them, or choose another name")


@dataclass(slots=True)
class Named:
    name: str
    faces: int  # faces the person has now
    merged: bool  # the name was in use: merged into it
    left_out: list[int] = field(default_factory=list)  # faces in a photo where the person already is


def person_called(text: str, names: Iterable[str]) -> str | None:
    """The person ``text`` names: the full name (any case), else a first name or surname that only one person
    has ("Obama" -> "Barack Obama")."""
    names = list(names)
    wanted = text.strip().lower()
    if not wanted:
        return None
    full = {n.lower(): n for n in names}
    if wanted in full:
        return full[wanted]
    return _name_words(names).get(wanted)


def _name_words(names: Iterable[str]) -> dict[str, str]:
    """Each word of a name (three letters or more) that belongs to one person only -> that person."""
    owners: dict[str, set[str]] = {}
    for n in names:
        for w in n.lower().split():
            if len(w) > 2:
                owners.setdefault(w, set()).add(n)
    return {w: next(iter(o)) for w, o in owners.items() if len(o) == 1 and w not in {n.lower() for n in names}}


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
