"""Files and scan state: which files are known, skipped, missing or moved; photos added and linked to
their files; removals (and their undo), with orphaned photos dropped."""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import asdict
from datetime import datetime

from sqlalchemy import (
    delete,
    func,
    select,
    update,
)
from sqlalchemy.orm import Session

from organizer.store.base import StoreBase
from organizer.store.records import (
    FileRef,
    KnownFile,
    NewPhoto,
    SkipRecord,
)
from organizer.store.schema import (
    LabelMember,
    Part,
    Photo,
    PhotoPath,
    Rehash,
    Skipped,
)
from organizer.store.sqlhelp import chunked, rowcount, under_any

# Reasons whose files are retried at every scan even when unchanged (a vanished drive, an I/O error).


TRANSIENT_REASONS = frozenset({"unreadable"})


class FileRepository(StoreBase):
    def known_files(self, under: Sequence[str] | None = None) -> dict[str, KnownFile]:
        """path -> what the library knows of it, optionally only at or under some folders or files."""
        stmt = select(PhotoPath.path, PhotoPath.photo_id, PhotoPath.size, PhotoPath.mtime_ns, PhotoPath.missing_since)
        if under is not None:
            stmt = stmt.where(under_any(PhotoPath.path, under))
        with self.read() as s:
            return {r[0]: KnownFile(r[1], r[2], r[3], r[4] is not None) for r in s.execute(stmt)}

    def rehash_due(self, under: Sequence[str] | None = None) -> dict[str, str]:
        """path -> why, for the files (at or under ``under``) that an upgrade listed to be read again once (see
        schema.Rehash)."""
        stmt = select(Rehash.path, Rehash.why)
        if under is not None:
            stmt = stmt.where(under_any(Rehash.path, under))
        with self.read() as s:
            return {p: why for p, why in s.execute(stmt)}

    def rehashed(self, hashes: Sequence[tuple[str, str, tuple[int, int] | None]]) -> None:
        """The new fingerprints of files :meth:`rehash_due` listed as (path, hash, a RAW's size or None): a file in
        a role gets its own hash, a photo's own file gives the photo its hash (and size). Where another photo has
        that hash already (the same bytes indexed anew under another path while this one was away), the file joins
        it and its photo's labels follow."""
        with self.tx() as s:
            for path, h, size in hashes:
                row = s.execute(select(PhotoPath).where(PhotoPath.path == path)).scalar_one_or_none()
                if row is not None and row.hash is not None:
                    row.hash = h
                elif row is not None:
                    other = s.execute(select(Photo.id).where(Photo.hash == h)).scalar_one_or_none()
                    if other is None:
                        s.execute(update(Photo).where(Photo.id == row.photo_id).values(
                            hash=h, **({"width": size[0], "height": size[1]} if size else {})))
                    elif other != row.photo_id:
                        self._link(s, FileRef(path, row.size, row.mtime_ns), other)
                s.execute(delete(Rehash).where(Rehash.path == path))

    def forget_rehash(self, paths: Sequence[str]) -> None:
        with self.tx() as s:
            for chunk in chunked(paths):
                s.execute(delete(Rehash).where(Rehash.path.in_(chunk)))

    def skipped_files(self, under: Sequence[str] | None = None) -> dict[str, SkipRecord]:
        stmt = select(Skipped.path, Skipped.size, Skipped.mtime_ns, Skipped.reason)
        if under is not None:
            stmt = stmt.where(under_any(Skipped.path, under))
        with self.read() as s:
            return {r[0]: SkipRecord(r[1], r[2], r[3]) for r in s.execute(stmt)}

    def photo_for_hash(self, hashes: Iterable[str]) -> dict[str, int]:
        out: dict[str, int] = {}
        with self.read() as s:
            for chunk in chunked(hashes):
                out.update({h: pid for h, pid in s.execute(select(Photo.hash, Photo.id).where(Photo.hash.in_(chunk)))})
        return out

    def photo_hashes(self, photo_ids: Iterable[int]) -> dict[int, str]:
        """photo id -> the hash of the bytes it was indexed from (what a later pass checks its file against)."""
        out: dict[int, str] = {}
        with self.read() as s:
            for chunk in chunked(photo_ids):
                out.update((pid, h) for pid, h in s.execute(select(Photo.id, Photo.hash).where(Photo.id.in_(chunk))))
        return out

    def expected_hashes(self, items: Iterable[tuple[int, str]]) -> dict[str, str]:
        """path -> the hash its bytes should have, for (photo id, path) a later pass reads: the photo's, or the
        file's own where it is a file in a role (the RAW of a pair, shown once its JPEG is gone)."""
        paths = [p for _, p in items]
        out: dict[str, str] = {}
        with self.read() as s:
            for chunk in chunked(paths):
                out.update((p, own or h) for p, own, h in s.execute(
                    select(PhotoPath.path, PhotoPath.hash, Photo.hash).join(Photo, Photo.id == PhotoPath.photo_id)
                    .where(PhotoPath.path.in_(chunk))))
        return out

    def link_companions(self, items: Sequence[tuple[FileRef, str, str, str]]) -> list[FileRef]:
        """Keep files as companions of the photo another file shows: (file, its hash, role, the path of the file
        whose photo it belongs to), e.g. a RAW with the JPEG of the same shot. Returns the files whose partner is
        not in the library (read as photos of their own instead)."""
        alone: list[FileRef] = []
        with self.tx() as s:
            touched: set[int] = set()
            for f, h, role, partner in items:
                pid = s.execute(select(PhotoPath.photo_id).where(PhotoPath.path == partner)).scalar_one_or_none()
                if pid is None:
                    alone.append(f)
                    continue
                touched |= self._link(s, f, pid, role=role, own_hash=h)
            for pid in touched:
                if s.get(Photo, pid) is not None:
                    self._refresh_words(s, pid)
        return alone

    def all_hashes(self) -> set[str]:
        with self.read() as s:
            return set(s.execute(select(Photo.hash)).scalars())

    def add_photos(self, photos: Sequence[NewPhoto], model: str) -> list[int]:
        """Store new photos with their whole-photo embedding: each whole, all in one transaction. A photo
        another writer stored meanwhile (same bytes) is linked to, not stored twice."""
        ids = []
        with self.tx() as s:
            for p in photos:
                existing = s.execute(select(Photo.id).where(Photo.hash == p.info.hash)).scalar_one_or_none()
                if existing is None:
                    photo = Photo(**asdict(p.info))
                    s.add(photo)
                    s.flush()
                    self._add_parts(s, photo.id, [p.whole], model)
                    pid = photo.id
                else:
                    pid = existing
                for f in [p.file, *p.extra_files]:
                    self._link(s, f, pid)
                self._refresh_words(s, pid)
                ids.append(pid)
        return ids

    def link_files(self, links: Sequence[tuple[FileRef, int]]) -> None:
        """Point paths at photos already stored (moved, copied or touched files)."""
        with self.tx() as s:
            touched: set[int] = set()
            for f, photo_id in links:
                touched |= self._link(s, f, photo_id)
            for pid in touched:
                if s.get(Photo, pid) is not None:
                    self._refresh_words(s, pid)

    def record_skips(self, skips: Sequence[tuple[FileRef, str, str]]) -> None:
        """Record files that could not be read. A path that shows a photo keeps showing it: one failed
        read (a file half copied, a flaky drive) never drops a photo, its analysis or its labels."""
        with self.tx() as s:
            for f, reason, detail in skips:
                s.merge(Skipped(path=f.path, reason=reason, detail=detail, size=f.size, mtime_ns=f.mtime_ns,
                                at=datetime.now()))

    def mark_missing(self, paths: Sequence[str], when: datetime | None = None) -> tuple[int, int]:
        """Paths a scan did not find. A path whose photo is still found elsewhere (a moved or renamed
        file) is dropped: nothing is lost. Any other is kept as missing, with its photo, analysis and
        labels, until it is found again or pruned. Returns (newly missing, dropped)."""
        when = when or datetime.now()
        missing = dropped = 0
        with self.tx() as s:
            present = select(PhotoPath.photo_id).where(PhotoPath.missing_since.is_(None))
            for chunk in chunked(paths):
                s.execute(update(PhotoPath).where(PhotoPath.path.in_(chunk), PhotoPath.missing_since.is_(None))
                          .values(missing_since=when))
                moved = s.execute(select(PhotoPath.photo_id).where(PhotoPath.path.in_(chunk),
                                                                   PhotoPath.photo_id.in_(present))).scalars().all()
                if moved:
                    dropped += rowcount(s.execute(delete(PhotoPath).where(
                        PhotoPath.path.in_(chunk), PhotoPath.photo_id.in_(list(set(moved))))))
                    for pid in set(moved):
                        self._refresh_words(s, pid)
                missing += s.execute(select(func.count()).select_from(PhotoPath).where(
                    PhotoPath.path.in_(chunk), PhotoPath.missing_since == when)).scalar_one()
        return missing, dropped

    def mark_present(self, paths: Sequence[str]) -> int:
        """Missing paths seen again; their photos are whole again (a failed pass is retried)."""
        n = 0
        with self.tx() as s:
            for chunk in chunked(paths):
                back = [pid for (pid,) in s.execute(select(PhotoPath.photo_id).where(
                    PhotoPath.path.in_(chunk), PhotoPath.missing_since.is_not(None)))]
                if back:
                    s.execute(update(PhotoPath).where(PhotoPath.path.in_(chunk)).values(missing_since=None))
                    s.execute(update(Photo).where(Photo.id.in_(back)).values(whole_failed=None, parts_failed=None, faces_failed=None))
                    n += len(back)
        return n

    def relocate(self, moves: Sequence[tuple[str, str]]) -> int:
        """Point paths at where their files are now (a folder moved or a drive mounted elsewhere): each
        (old, new) whose new path the library does not hold yet. Photos keep everything; returns paths moved."""
        n = 0
        with self.tx() as s:
            taken = {p for chunk in chunked([new for _, new in moves])
                     for (p,) in s.execute(select(PhotoPath.path).where(PhotoPath.path.in_(chunk)))}
            touched = set()
            for old, new in moves:
                if new in taken:
                    continue
                row = s.execute(select(PhotoPath).where(PhotoPath.path == old)).scalar_one_or_none()
                if row is None:
                    continue
                row.path, row.missing_since = new, None
                touched.add(row.photo_id)
                n += 1
            s.flush()
            for pid in touched:
                self._refresh_words(s, pid)
        return n

    def parent_folders(self) -> dict[str, int]:
        """Each folder holding indexed files, with the number of photos found there."""
        out: dict[str, set[int]] = {}
        with self.read() as s:
            for path, pid in s.execute(select(PhotoPath.path, PhotoPath.photo_id)):
                out.setdefault(os.path.dirname(path), set()).add(pid)
        return {k: len(v) for k, v in out.items()}

    def forget_skips(self, paths: Sequence[str]) -> None:
        """Drop skip records of files that are gone (they hold nothing the user made)."""
        with self.tx() as s:
            for chunk in chunked(paths):
                s.execute(delete(Skipped).where(Skipped.path.in_(chunk)))

    def remove_paths(self, paths: Sequence[str]) -> tuple[int, int]:
        """Forget paths (and skip records): (photos that left the library, label memberships they took)."""
        with self.tx() as s:
            removed, members = self._unlink_paths(s, paths)
            for chunk in chunked(paths):
                s.execute(delete(Skipped).where(Skipped.path.in_(chunk)))
            if members:
                self.note_curation(s)
        return removed, members

    def undoable_remove(self, photo_ids: Sequence[int]) -> tuple[int, str]:
        """Take photos out with every file of theirs, keeping a copy to undo with: (photos removed, token)."""
        from organizer.store import undo

        with self.read() as s:
            paths = list(s.execute(select(PhotoPath.path).where(PhotoPath.photo_id.in_(list(photo_ids)))).scalars())
        token = undo.save(self.path, self.folder, photo_ids)
        removed, _ = self.remove_paths(paths)
        return removed, token

    def undo_remove(self, token: str) -> list[int]:
        """Bring back the photos an :meth:`undoable_remove` took out, with everything they had."""
        from organizer.store import undo

        try:
            ids = undo.restore(self.path, self.folder, token)
        except sqlite3.Error as e:
            raise self.translate(e, "undo") from e
        with self.tx() as s:
            for pid in ids:
                self._refresh_words(s, pid)
            self._bump_removals(s)  # rows came back under their old ids: the search index reloads
            self.note_curation(s)
        return ids

    def missing_paths(self, older_than: datetime | None = None) -> list[str]:
        stmt = select(PhotoPath.path).where(PhotoPath.missing_since.is_not(None))
        if older_than is not None:
            stmt = stmt.where(PhotoPath.missing_since <= older_than)
        with self.read() as s:
            return list(s.execute(stmt.order_by(PhotoPath.path)).scalars())

    def counts(self) -> tuple[int, int]:
        """(photos, photos none of whose files the last scans found): two queries, for the window's refresh."""
        present = select(PhotoPath.photo_id).where(PhotoPath.missing_since.is_(None))
        with self.read() as s:
            photos = s.execute(select(func.count(Photo.id))).scalar_one()
            missing = s.execute(select(func.count(Photo.id)).where(Photo.id.not_in(present))).scalar_one()
        return int(photos), int(missing)

    def all_paths(self) -> list[str]:
        """Every indexed path (a sample for the int8 check is drawn from them)."""
        with self.read() as s:
            return list(s.execute(select(PhotoPath.path)).scalars())

    def paths_under(self, folder: str) -> tuple[list[str], list[str]]:
        """(indexed paths, skipped paths) at or under ``folder``."""
        with self.read() as s:
            indexed = list(s.execute(select(PhotoPath.path).where(under_any(PhotoPath.path, [folder]))).scalars())
            skipped = list(s.execute(select(Skipped.path).where(under_any(Skipped.path, [folder]))).scalars())
        return indexed, skipped

    def _link(self, s: Session, f: FileRef, photo_id: int, role: str | None = None,
              own_hash: str | None = None) -> set[int]:
        """Point ``f.path`` at ``photo_id`` (``role``: a companion file with its own hash, see PhotoPath.role);
        returns the photos whose paths changed."""
        row = s.execute(select(PhotoPath).where(PhotoPath.path == f.path)).scalar_one_or_none()
        s.execute(delete(Skipped).where(Skipped.path == f.path))
        if row is None:
            s.add(PhotoPath(path=f.path, photo_id=photo_id, size=f.size, mtime_ns=f.mtime_ns, role=role,
                            hash=own_hash))
            return {photo_id}
        row.size, row.mtime_ns, row.missing_since = f.size, f.mtime_ns, None
        row.role, row.hash = role, own_hash
        if row.photo_id == photo_id:
            return set()
        old = row.photo_id
        row.photo_id = photo_id
        s.flush()
        # The file changed in place (rotated in an editor): the photo labels follow the file.
        self._drop_orphans(s, [old], heir=photo_id)
        return {photo_id, old}

    def _unlink_paths(self, s: Session, paths: Sequence[str]) -> tuple[int, int]:
        owners: set[int] = set()
        for chunk in chunked(paths):
            owners |= {pid for (pid,) in s.execute(select(PhotoPath.photo_id).where(PhotoPath.path.in_(chunk)))}
            s.execute(delete(PhotoPath).where(PhotoPath.path.in_(chunk)))
        members = self._count_members(s, owners)
        removed = self._drop_orphans(s, owners)
        members -= self._count_members(s, owners)
        for pid in owners:
            if s.get(Photo, pid) is not None:
                self._refresh_words(s, pid)
        return removed, members

    @staticmethod
    def _count_members(s: Session, photo_ids: Iterable[int]) -> int:
        n = 0
        for chunk in chunked(photo_ids):
            n += s.execute(select(func.count()).select_from(LabelMember).join(Part, Part.id == LabelMember.part_id)
                           .where(Part.photo_id.in_(chunk))).scalar_one()
        return n

    def _drop_orphans(self, s: Session, photo_ids: Iterable[int], heir: int | None = None) -> int:
        ids = list(photo_ids)
        if not ids:
            return 0
        s.flush()
        still = {pid for (pid,) in s.execute(select(PhotoPath.photo_id).where(PhotoPath.photo_id.in_(ids)))}
        orphans = [pid for pid in ids if pid not in still]
        if orphans:
            if heir is not None:
                whole = s.execute(select(Part.id).where(Part.photo_id == heir, Part.type == "whole")).scalar()
                if whole is not None:
                    old_parts = list(s.execute(select(Part.id).where(Part.photo_id.in_(orphans))).scalars())
                    self._move_members(s, {p: whole for p in old_parts})
            s.execute(delete(Photo).where(Photo.id.in_(orphans)))  # parts and embeddings cascade
            self._bump_removals(s)
        return len(orphans)
