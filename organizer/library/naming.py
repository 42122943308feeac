"""Labels and people as the shells use them: every change journaled (undoable by `organizer undo` and Edit > Undo),
every answer typed, so the window and the CLI never drive the label store or the face groups themselves."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from organizer.library.curation import Curation

if TYPE_CHECKING:
    from organizer.people.people import Named, Overview
    from organizer.store.labels import LabelInfo


class Naming(Curation):
    # ---- labels ----------------------------------------------------------------------------------

    def label_infos(self) -> list[LabelInfo]:
        """Every label, by name: its photos, parts and rejected suggestions."""
        return self.labels.list()

    def label_names(self) -> list[str]:
        return self.labels.names()

    def resolve_items(self, items: Sequence[str]) -> list[int]:
        """Part ids for what a user typed: 'part:ID', 'photo:ID' or an indexed file's path (its whole photo)."""
        return self.labels.resolve(items)

    def label_members(self, *names: str) -> list[int]:
        """Every part in these labels, confirmed or rejected (what renaming, merging or removing them may change)."""
        out: list[int] = []
        for name in names:
            out += self.labels.all_members(name)
        return out

    def label_photo_ids(self, name: str) -> list[int]:
        """The photos a label holds (through a whole photo or one of its parts)."""
        positive, _ = self.labels.members(name)
        return sorted({p.photo_id for p in self.store.parts(positive).values()})

    def label_parts_of(self, name: str, photo_ids: Sequence[int]) -> list[int]:
        """The parts through which these photos are in a label (the whole photo, an object, a face)."""
        positive, _ = self.labels.members(name)
        wanted = set(photo_ids)
        return [p for p, r in self.store.parts(positive).items() if r.photo_id in wanted]

    def label_has_concept(self, name: str) -> bool:
        """Whether a label holds photos or objects in CLIP's space (it can suggest more); a person's label holds
        faces, which the People page suggests for."""
        from organizer.parts import FACE

        positive, _ = self.labels.members(name)
        return any(r.type != FACE for r in self.store.parts(positive).values())

    def label_photos(self, name: str, photo_ids: Sequence[int], positive: bool = True) -> int:
        """Put whole photos in a label (or, ``positive`` False, reject them from it), undoably; returns how many
        were new."""
        parts = self.labels.whole_parts(photo_ids)
        what = f"label {name}" if positive else f"reject for {name}"
        return self.curate(what, parts, lambda: self.labels.add(name, parts, positive=positive))

    def label_parts(self, name: str, part_ids: Sequence[int], positive: bool = True) -> int:
        """Put parts in a label (or reject them from it), undoably; a face put in a label is taken out of whoever
        it was named before (a face shows one person). Returns how many were new."""
        from organizer.parts import FACE

        known = self.labels.known_parts(part_ids)

        def act() -> int:
            if not positive:
                return self.labels.add(name, known, positive=False)
            rows = self.store.parts(known)
            faces = [p for p in known if rows[p].type == FACE]
            others = [p for p in known if rows[p].type != FACE]
            return (self.labels.assign(name, faces) if faces else 0) + (self.labels.add(name, others) if others else 0)

        return self.curate(f"label {name}" if positive else f"reject for {name}", known, act)

    def rename_label(self, old: str, new: str) -> None:
        self.curate(f"rename {old}", self.label_members(old), lambda: self.labels.rename(old, new))

    def merge_labels(self, source: str, target: str) -> None:
        self.curate(f"merge {source} into {target}", self.label_members(source, target),
                    lambda: self.labels.merge(source, target))

    def remove_label(self, name: str, part_ids: Sequence[int] | None = None) -> None:
        """Delete a label, or (``part_ids``) take those parts out of it, undoably."""
        parts = list(part_ids) if part_ids is not None else self.label_members(name)
        what = f"remove {name}" if part_ids is None else f"take {len(parts)} out of {name}"
        self.curate(what, parts, lambda: self.labels.remove(name, part_ids))

    # ---- people ----------------------------------------------------------------------------------

    def people_overview(self, singles: bool = False) -> Overview:
        """People and unnamed groups (``singles``: faces like no other yet too), numbered stably."""
        return self.people.overview(singles=singles)

    def name_person(self, ref: str, name: str, merge: bool = False) -> Named:
        """Name a group (by its number) or rename a person, undoably; a name in use needs ``merge``
        (:class:`organizer.people.people.NameInUseError` otherwise)."""
        what = f"name {ref} {name}" + (f": merge into {name}" if merge else "")
        return self.curate(what, self.people.touched(ref, name),
                           lambda: self.people.name(ref, name, merge=merge))

    def merge_people(self, source: str, target: str) -> tuple[str, int]:
        """Merge two people or groups, undoably; returns the name kept and how many faces it now has."""
        kept = self.curate(f"merge {source} and {target}", self.people.touched(source, target),
                           lambda: self.people.merge(source, target))
        return kept, len(self.labels.members(kept)[0])

    def split_person(self, name: str, faces: Sequence[int]) -> int:
        """Move faces out of a person (back to the unnamed ones), undoably."""
        return self.curate(f"split {name}", faces, lambda: self.people.split(name, faces))

    def confirm_faces(self, name: str, faces: Sequence[int]) -> dict[int, str | None]:
        """These faces are ``name``, undoably; returns who each was before (None: nobody)."""
        return self.curate(f"confirm for {name}", faces, lambda: self.people.confirm(name, faces))

    def reject_faces(self, name: str, faces: Sequence[int]) -> int:
        """These faces are not ``name`` (never suggested for them again), undoably."""
        return self.curate(f"not {name}", faces, lambda: self.people.reject(name, faces))

    def face_suggestions(self, name: str) -> list[int]:
        """Faces that look like ``name``'s, best first."""
        return self.people.suggestions(name)
