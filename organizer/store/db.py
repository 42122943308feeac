"""The Store: every read and write of the library database goes through here.

Every database error leaves as a :class:`LibraryError` with one line saying what happened (full disk,
read-only library, damaged database, busy) and a :class:`LibraryError.kind` the shells phrase their
advice from; nothing above the store sees SQLAlchemy's exceptions.
"""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote

import numpy as np
from filelock import FileLock, Timeout
from sqlalchemy import (
    Engine,
    String,
    case,
    create_engine,
    delete,
    event,
    false,
    func,
    literal,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from organizer import fsutil
from organizer.errors import LibraryError
from organizer.media.scan import display
from organizer.parts import iou
from organizer.store import backup
from organizer.store.backup import Failure
from organizer.store.migrations import current_version, migrate
from organizer.store.paths import to_db
from organizer.store.records import (
    CheckReport,
    FileRef,
    KnownFile,
    LibraryStats,
    NewPart,
    NewPhoto,
    PartRow,
    PhotoInfo,
    PhotoRecord,
    PhotoRow,
    SkippedFile,
    SkipRecord,
    VectorRows,
)
from organizer.store.schema import (
    SCHEMA_VERSION,
    Embedding,
    FaceInfo,
    LabelMember,
    Meta,
    Part,
    Photo,
    PhotoLandmark,
    PhotoPath,
    Skipped,
)

__all__ = ["DB_NAME", "FileRef", "NewPart", "NewPhoto", "PartRow", "PhotoInfo", "Store", "VectorRows",
           "chunked", "path_words"]

DB_NAME = "library.sqlite3"
MARKER = "library.json"  # beside the database: what it held when last closed (a lost -wal file shows)
CHUNK = 500  # ids per IN (...) clause
T = TypeVar("T")

# Reasons whose files are retried at every scan even when unchanged (a vanished drive, an I/O error).
TRANSIENT_REASONS = frozenset({"unreadable"})


def chunked(items: Iterable[T], n: int = CHUNK) -> Iterator[list[T]]:
    """Lists of at most ``n`` items (for SQL IN clauses)."""
    return fsutil.chunked(items, n)


class Store:
    def __init__(self, library: str | os.PathLike[str], read_only: bool = False, create: bool = True) -> None:
        """Open the library database in ``library``. ``create`` False: a folder holding no library is refused
        (a mistyped --library for a command that only reads). A library that cannot be written (read-only
        media, a full disk) is opened read-only where ``read_only`` was not asked for: reading works, and a
        write fails saying why."""
        self.folder = Path(os.path.abspath(os.fspath(library)))  # relative: from where it was given
        self.path = self.folder / DB_NAME
        self._checked = False
        if not create and not self.path.is_file():
            raise LibraryError(f"There is no library at {self.folder} (no {DB_NAME} in it). "
                               "Check the folder's name; `organizer index FOLDER` creates a library.",
                               kind="missing")
        if not read_only:
            try:
                self._connect(read_only=False)
                return
            except LibraryError as e:
                if e.kind not in ("read-only", "full", "folder") or not self.path.is_file():
                    raise
                if not os.access(self.path, os.R_OK):
                    raise
        elif not self.path.is_file():
            raise LibraryError(f"There is no library at {self.folder}.", kind="folder")
        self._connect(read_only=True)

    def _connect(self, read_only: bool) -> None:
        self.read_only = read_only
        if not read_only:
            try:
                self.folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                if e.errno == errno.EROFS:
                    raise LibraryError(f"The library folder {self.folder} is on a read-only disk.",
                                       kind="read-only") from e
                raise LibraryError(f"Cannot create the library folder {self.folder}: {e.strerror or e}",
                                   kind="full" if e.errno == errno.ENOSPC else "folder") from e
            if not os.access(self.folder, os.W_OK):
                raise LibraryError(f"The library ({self.folder}) is read-only; nothing could be written.",
                                   kind="read-only")
        url = f"sqlite:///{self.path}"
        connect_args: dict[str, Any] = {"timeout": 30, "check_same_thread": False}
        if read_only:  # a library on read-only media: SQLite opens it with mode=ro
            # where the folder cannot be written, the -wal and -shm files of WAL mode cannot be made either, and
            # nothing else can change the database: SQLite reads it as immutable
            flags = "mode=ro" if os.access(self.folder, os.W_OK) else "mode=ro&immutable=1"
            url = "sqlite:///file:" + quote(str(self.path)) + f"?{flags}&uri=true"
        # Connections are pooled and may serve any thread (the window reads while a worker writes; WAL).
        self.engine: Engine = create_engine(url, connect_args=connect_args)
        event.listen(self.engine, "connect", _pragmas_ro if read_only else _pragmas)
        # Transactions are begun by us, not by the sqlite3 module: a write transaction takes the write
        # lock when it begins (BEGIN IMMEDIATE), so it waits for another writer (busy timeout) instead of
        # failing when a read it made first has gone stale; reads begin deferred.
        event.listen(self.engine, "begin", _begin)
        self._writer = self.engine.execution_options(organizer_write=True)
        self._open()

    # ---- opening, migrating, closing ----------------------------------------------------------

    def _open(self) -> None:
        marker = self._marker()
        if marker.get("photos", 0) > 0 and (not self.path.exists() or self.path.stat().st_size == 0):
            self.engine.dispose()
            self._lost(marker)
        try:
            if not self.read_only:
                self._wal()
            with self.engine.connect() as conn:
                version = current_version(conn)
            if version == 0 and marker.get("photos", 0) > 0:
                self._lost(marker)
            if version < SCHEMA_VERSION and not self.read_only:
                with _lock(self.folder / "schema.lock", "the library is being upgraded by another organizer"):
                    with self.engine.connect() as conn:
                        version = current_version(conn)
                    if 0 < version < SCHEMA_VERSION:
                        backup.make(self.path, self.folder, f"before-schema-{SCHEMA_VERSION}")
                    with self._writer.begin() as conn:
                        migrate(conn)
            elif version != SCHEMA_VERSION:
                with self.engine.connect() as conn:
                    migrate(conn, upto=version)  # only checks that this version is known
                if version < SCHEMA_VERSION:
                    raise LibraryError(f"The library at {self.folder} is read-only and needs an upgrade "
                                       f"(schema {version} to {SCHEMA_VERSION}); open it once where it can be "
                                       "written.", kind="read-only")
            if not self.read_only and self.get_meta(backup.ID_KEY) is None:  # which library a backup is of
                self.set_meta(backup.ID_KEY, uuid.uuid4().hex)
        except LibraryError:
            self.engine.dispose()
            raise
        except (SQLAlchemyError, sqlite3.Error, OSError) as e:
            self.engine.dispose()
            raise self.translate(e, "open") from e

    def _wal(self) -> None:
        """Write-ahead logging, set once for the file (it persists): under the schema lock, because
        switching a database's journal mode fails at once, whatever the busy timeout, while another
        process has it open (two processes creating one new library)."""
        def mode() -> str:
            raw = sqlite3.connect(self.path, timeout=30)
            try:
                return str(raw.execute("PRAGMA journal_mode").fetchone()[0]).lower()
            finally:
                raw.close()

        if mode() == "wal":
            return
        with _lock(self.folder / "schema.lock", "the library is being created by another organizer"):
            deadline = time.monotonic() + 30
            while True:
                raw = sqlite3.connect(self.path, timeout=30)
                try:
                    if str(raw.execute("PRAGMA journal_mode=WAL").fetchone()[0]).lower() == "wal":
                        return
                except sqlite3.OperationalError:
                    if time.monotonic() > deadline:
                        raise
                finally:
                    raw.close()
                if time.monotonic() > deadline:
                    raise LibraryError(f"Could not switch {self.path} to write-ahead logging: another program "
                                       "keeps it open.", kind="busy")
                time.sleep(0.1)

    def _lost(self, marker: dict[str, Any]) -> None:
        last = backup.newest(self.folder)
        raise LibraryError(
            f"The library database {self.path} has lost its contents: it held {marker['photos']} photos "
            "when last closed (was its -wal file deleted after a crash?). Nothing was changed."
            + (f" Newest backup: {last}." if last else " There is no backup."),
            kind="damaged", backup=last)

    def close(self) -> None:
        if not self.read_only:
            try:
                with self.engine.connect() as conn:
                    photos = conn.execute(select(func.count(Photo.id))).scalar_one()
                raw = self.engine.raw_connection()  # outside any transaction
                try:
                    raw.cursor().execute("PRAGMA wal_checkpoint(PASSIVE)")  # never blocks another writer
                finally:
                    raw.close()
                self._write_marker(photos)
            except (SQLAlchemyError, sqlite3.Error, OSError):
                pass  # closing never fails; the next open checks again
        self.engine.dispose()

    def _marker(self) -> dict[str, Any]:
        try:
            data = json.loads((self.folder / MARKER).read_text(encoding="utf-8"))
            return data if isinstance(data, dict) else {}
        except (OSError, ValueError):
            return {}

    def _write_marker(self, photos: int) -> None:
        fsutil.write_atomic(self.folder / MARKER, json.dumps({
            "schema": SCHEMA_VERSION, "photos": photos, "closed_at": datetime.now().isoformat(timespec="seconds")}))

    # ---- sessions and errors ------------------------------------------------------------------

    def session(self) -> Session:
        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A session for reading; database errors become LibraryError."""
        try:
            with self.session() as s:
                yield s
        except LibraryError:
            raise
        except (SQLAlchemyError, sqlite3.Error) as e:
            raise self.translate(e, "read") from e

    @contextmanager
    def tx(self) -> Iterator[Session]:
        """One write transaction: all of it is stored or none. Refused on a database that fails its
        quick check (once per process), so a damaged library is never written further."""
        if not self._checked:
            self.quick_check()
        try:
            with Session(self._writer, expire_on_commit=False) as s, s.begin():
                yield s
        except LibraryError:
            raise
        except (SQLAlchemyError, sqlite3.Error) as e:
            raise self.translate(e, "write") from e

    def quick_check(self) -> None:
        try:
            with self.engine.connect() as conn:
                rows = [r[0] for r in conn.exec_driver_sql("PRAGMA quick_check")]
        except (SQLAlchemyError, sqlite3.Error) as e:
            raise self.translate(e, "read") from e
        if rows != ["ok"]:
            last = backup.newest(self.folder)
            raise LibraryError(f"The library database {self.path} is damaged ({rows[0]}); nothing was written."
                               + (f" Newest backup: {last}." if last else " There is no backup."),
                               kind="damaged", backup=last)
        self._checked = True

    def translate(self, e: BaseException, doing: str) -> LibraryError:
        """One line for a database error: what happened, and everything stored before is kept."""
        orig = getattr(e, "orig", None) or e
        msg = str(orig).lower()
        code = getattr(orig, "sqlite_errorname", "") or ""
        last = backup.newest(self.folder) if self.folder.is_dir() else None
        if ("full" in msg or code == "SQLITE_FULL" or (isinstance(orig, OSError) and orig.errno == errno.ENOSPC)
                or ("disk i/o" in msg or code.startswith("SQLITE_IOERR")) and _disk_full(self.folder)):
            return LibraryError(f"The disk holding the library ({self.folder}) is full; nothing more could be "
                                "written. Everything stored before is kept.", kind="full")
        if ("readonly" in msg or "read-only" in msg or code.startswith("SQLITE_READONLY")
                or isinstance(orig, OSError) and orig.errno == errno.EROFS):
            return LibraryError(f"The library ({self.folder}) is read-only; nothing could be written.",
                                kind="read-only")
        if "locked" in msg or "busy" in msg:
            return LibraryError(f"The library ({self.folder}) is busy: another program kept it locked for "
                                "30 s. Everything stored before is kept.", kind="busy")
        if "unable to open" in msg or isinstance(orig, OSError):
            return LibraryError(f"Cannot open the library database {self.path}: {orig}.", kind="folder")
        if ("malformed" in msg or "not a database" in msg or "corrupt" in msg
                or isinstance(orig, sqlite3.DatabaseError) and not isinstance(orig, sqlite3.OperationalError)
                and not isinstance(orig, sqlite3.IntegrityError)):
            return LibraryError(f"The library database {self.path} is damaged ({orig}); nothing was changed."
                                + (f" Newest backup: {last}." if last else " There is no backup."),
                                kind="damaged", backup=last)
        verb = {"open": "open", "read": "read", "write": "write to"}.get(doing, doing)
        return LibraryError(f"Could not {verb} the library database {self.path}: {orig}. "
                            "Everything stored before is kept.", kind="other")

    # ---- backups and checks -------------------------------------------------------------------

    def backup(self, reason: str) -> Path:
        """A backup now; a failure is remembered (``backup_failure``) until a backup succeeds, so that a safety
        net that stopped working is said, not only logged."""
        try:
            made = backup.make(self.path, self.folder, reason)
        except (sqlite3.Error, OSError, ValueError) as e:
            err = self.translate(e, "back up")
            backup.note_failure(self.folder, reason, str(err))
            raise err from e
        backup.note_failure(self.folder, None)
        return made

    def backup_failure(self) -> Failure | None:
        """The last backup's failure, when no backup has succeeded since."""
        return backup.last_failure(self.folder)

    def maybe_backup(self, max_age: timedelta = timedelta(days=1)) -> Path | None:
        """Back up when the user's curation (labels) changed since the newest backup, at most once per ``max_age``."""
        changed = self.get_meta("curation_changed_at")
        if not changed:
            return None
        last = backup.newest(self.folder)
        if last is not None:
            made = datetime.fromtimestamp(last.stat().st_mtime)
            if made >= datetime.fromisoformat(changed) or datetime.now() - made < max_age:
                return None
        return self.backup("daily")

    def check(self) -> CheckReport:
        rep = CheckReport()
        with self.read() as s:
            conn = s.connection()
            rep.integrity = [r[0] for r in conn.exec_driver_sql("PRAGMA integrity_check") if r[0] != "ok"]
            rep.foreign_keys = [f"{t} row {rowid} points at a missing {parent} row"
                                for t, rowid, parent, _ in conn.exec_driver_sql("PRAGMA foreign_key_check")]
            no_whole = s.execute(select(func.count(Photo.id)).where(
                Photo.id.not_in(select(Part.photo_id).where(Part.type == "whole")))).scalar_one()
            if no_whole:
                rep.consistency.append(f"{no_whole} photos have no whole-photo part")
            no_path = s.execute(select(func.count(Photo.id)).where(
                Photo.id.not_in(select(PhotoPath.photo_id)))).scalar_one()
            if no_path:
                rep.consistency.append(f"{no_path} photos have no file path")
            bare = s.execute(select(func.count(Part.id)).where(  # small faces have none, by design
                Part.id.not_in(select(Embedding.part_id)), Part.type != "face")).scalar_one()
            if bare:
                rep.consistency.append(f"{bare} parts have no vector")
            dims = s.execute(select(Embedding.model, func.length(Embedding.vector)).group_by(
                Embedding.model, func.length(Embedding.vector))).all()
            by_model: dict[str, int] = {}
            for m, _ in dims:
                by_model[m] = by_model.get(m, 0) + 1
            for m, n in by_model.items():
                if n > 1:
                    rep.consistency.append(f"vectors of model {m} have {n} different lengths")
            words = s.execute(text("SELECT count(*) FROM photo_words WHERE rowid NOT IN (SELECT id FROM photos)"))
            stale = words.scalar_one()
            if stale:
                rep.consistency.append(f"{stale} keyword rows belong to no photo")
        return rep

    # ---- meta ---------------------------------------------------------------------------------

    def get_meta(self, key: str, default: str | None = None) -> str | None:
        with self.read() as s:
            row = s.get(Meta, key)
            return row.value if row else default

    def set_meta(self, key: str, value: str) -> None:
        with self.tx() as s:
            s.merge(Meta(key=key, value=value))

    def change_stamp(self) -> tuple[int, int, int]:
        """(photos, highest photo id, removals): another value once photos were added or removed, by anyone."""
        with self.read() as s:
            n, top = s.execute(select(func.count(Photo.id), func.coalesce(func.max(Photo.id), 0))).one()
            row = s.get(Meta, "removals")
        return int(n), int(top), int(row.value) if row else 0

    def generation(self) -> int:
        """Grows whenever something is removed, so an in-memory index knows to reload."""
        return int(self.get_meta("removals", "0") or 0)

    def _bump_removals(self, s: Session) -> None:
        row = s.get(Meta, "removals")
        if row is None:
            s.add(Meta(key="removals", value="1"))
        else:
            row.value = str(int(row.value) + 1)

    @staticmethod
    def note_curation(s: Session) -> None:
        """Record that the user's own work (labels) changed: the next close makes a backup (at most daily)."""
        s.merge(Meta(key="curation_changed_at", value=datetime.now().isoformat()))

    # ---- files --------------------------------------------------------------------------------

    def known_files(self, under: Sequence[str] | None = None) -> dict[str, KnownFile]:
        """path -> what the library knows of it, optionally only at or under some folders or files."""
        stmt = select(PhotoPath.path, PhotoPath.photo_id, PhotoPath.size, PhotoPath.mtime_ns, PhotoPath.missing_since)
        if under is not None:
            stmt = stmt.where(_under_any(PhotoPath.path, under))
        with self.read() as s:
            return {r[0]: KnownFile(r[1], r[2], r[3], r[4] is not None) for r in s.execute(stmt)}

    def skipped_files(self, under: Sequence[str] | None = None) -> dict[str, SkipRecord]:
        stmt = select(Skipped.path, Skipped.size, Skipped.mtime_ns, Skipped.reason)
        if under is not None:
            stmt = stmt.where(_under_any(Skipped.path, under))
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
                    dropped += _rowcount(s.execute(delete(PhotoPath).where(
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
            indexed = list(s.execute(select(PhotoPath.path).where(_under_any(PhotoPath.path, [folder]))).scalars())
            skipped = list(s.execute(select(Skipped.path).where(_under_any(Skipped.path, [folder]))).scalars())
        return indexed, skipped

    def _link(self, s: Session, f: FileRef, photo_id: int) -> set[int]:
        """Point ``f.path`` at ``photo_id``; returns the photos whose paths changed."""
        row = s.execute(select(PhotoPath).where(PhotoPath.path == f.path)).scalar_one_or_none()
        s.execute(delete(Skipped).where(Skipped.path == f.path))
        if row is None:
            s.add(PhotoPath(path=f.path, photo_id=photo_id, size=f.size, mtime_ns=f.mtime_ns))
            return {photo_id}
        row.size, row.mtime_ns, row.missing_since = f.size, f.mtime_ns, None
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

    @staticmethod
    def _move_members(s: Session, moves: dict[int, int]) -> None:
        """Move label memberships from part to part (a positive member wins over a rejection)."""
        if not moves:
            return
        rows = s.execute(select(LabelMember).where(LabelMember.part_id.in_(list(moves)))).scalars().all()
        for m in rows:
            target = moves[m.part_id]
            if target == m.part_id:
                continue
            have = s.get(LabelMember, (m.label_id, target))
            if have is None:
                s.add(LabelMember(label_id=m.label_id, part_id=target, positive=m.positive))
            else:
                have.positive = have.positive or m.positive
            s.delete(m)
        s.flush()

    # ---- parts and embeddings -----------------------------------------------------------------

    def _add_parts(self, s: Session, photo_id: int, parts: Sequence[NewPart], model: str) -> list[int]:
        ids = []
        for p in parts:
            row = Part(photo_id=photo_id, type=p.type, label=p.label, x0=p.box[0], y0=p.box[1], x1=p.box[2],
                       y1=p.box[3], confidence=p.confidence, text=p.text)
            s.add(row)
            s.flush()
            if p.vector.size:  # a face too small to identify has no descriptor
                s.add(Embedding(part_id=row.id, model=p.space or model, modality=p.modality, vector=_pack(p.vector)))
            if p.landmarks is not None:
                s.add(FaceInfo(part_id=row.id, landmarks=json.dumps(p.landmarks), quality=p.quality or 0.0))
            ids.append(row.id)
        return ids

    def photos_without_whole(self, model: str, limit: int | None = None) -> list[tuple[int, int, str]]:
        """(photo_id, whole part id, a path) for photos whose whole-photo vector is not in ``model``'s space,
        leaving out photos that are missing or that failed to read for this model."""
        has = select(Embedding.part_id).where(Embedding.model == model)
        stmt = (
            select(Part.photo_id, Part.id, func.min(PhotoPath.path))
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
                s.add(Embedding(part_id=part_id, model=model, modality="image", vector=_pack(vec)))
            self._bump_removals(s)

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

    def _count_photos(self, where: Any) -> int:
        with self.read() as s:
            return s.execute(select(func.count(Photo.id)).where(where)).scalar_one()

    def _with_a_path(self, needing: Any, limit: int | None) -> list[tuple[int, str]]:
        """(photo id, a present path) of the photos ``needing`` selects, by id."""
        stmt = (
            select(Photo.id, func.min(PhotoPath.path))
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

    def person_boxes(self, photo_ids: Sequence[int]) -> dict[int, list[tuple[float, float, float, float]]]:
        """The detector's person boxes of each photo (where the faces pass looks first)."""
        out: dict[int, list[tuple[float, float, float, float]]] = {p: [] for p in photo_ids}
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
                                               Part.type.not_in(["whole", "face"]))).scalars().all()
            self._swap_parts(s, photo_id, old, parts, model)
            photo.parts_key = parts_key
            photo.parts_failed = None
            photo.faces_key = None  # the person boxes faces are searched in may have changed
            self._refresh_words(s, photo_id)
        return True

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
        return _vector_rows(rows)

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

    def parts(self, part_ids: Iterable[int]) -> dict[int, PartRow]:
        out: dict[int, PartRow] = {}
        with self.read() as s:
            for chunk in chunked(part_ids):
                for p in s.execute(select(Part).where(Part.id.in_(chunk))).scalars():
                    out[p.id] = _part_row(p)
        return out

    def parts_of(self, photo_id: int) -> list[PartRow]:
        with self.read() as s:
            return [_part_row(p) for p in s.execute(select(Part).where(Part.photo_id == photo_id)
                                                    .order_by(Part.id)).scalars()]

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
                        p.landmark, p.landmark_p, place=p.place or None)
                for pid, path, gone in s.execute(select(PhotoPath.photo_id, PhotoPath.path, PhotoPath.missing_since)
                                                 .where(PhotoPath.photo_id.in_(chunk)).order_by(PhotoPath.path)):
                    (out[pid].missing_paths if gone is not None else out[pid].paths).append(path)
        for info in out.values():
            if not info.paths:  # every file missing: show where it was
                info.missing = True
                info.paths = list(info.missing_paths)
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
        with self.read() as s:
            rows = s.execute(stmt).all()
        return _vector_rows(rows)

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

    # ---- browsing -----------------------------------------------------------------------------

    def photo_list(self, order: str = "date", landmark: str | None = None,
                   photo_ids: Sequence[int] | None = None) -> list[PhotoRow]:
        """(photo_id, first path, hash) of every photo (or of some), by date taken (undated last) or by path.
        The first path is a present one where the photo has any."""
        first_path = func.min(PhotoPath.path)
        present = func.max(case((PhotoPath.missing_since.is_(None), 1), else_=0))
        stmt = (select(Photo.id, first_path, Photo.hash, present, Photo.taken_at)
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
            return [PhotoRow(a, b, c, not d, t.isoformat() if t else None) for a, b, c, d, t in s.execute(stmt)]

    # ---- keywords -----------------------------------------------------------------------------

    def _refresh_words(self, s: Session, photo_id: int) -> None:
        paths = [p for (p,) in s.execute(select(PhotoPath.path).where(PhotoPath.photo_id == photo_id))]
        texts = [t for (t,) in s.execute(select(Part.text).where(Part.photo_id == photo_id, Part.text.is_not(None))) if t]
        landmark, place = s.execute(select(Photo.landmark, Photo.place_words).where(Photo.id == photo_id)).one_or_none() \
            or (None, None)
        words = " ".join([*(path_words(p) for p in paths), *texts, landmark or "", place or ""])
        s.execute(text("DELETE FROM photo_words WHERE rowid = :id"), {"id": photo_id})
        if paths:
            s.execute(text("INSERT INTO photo_words(rowid, words) VALUES (:id, :w)"), {"id": photo_id, "w": words})

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

    # ---- status -------------------------------------------------------------------------------

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

    def part_ids_of_type(self, part_type: str) -> list[int]:
        with self.read() as s:
            return list(s.execute(select(Part.id).where(Part.type == part_type).order_by(Part.id)).scalars())

    def count_parts(self, part_type: str) -> int:
        with self.read() as s:
            return s.execute(select(func.count(Part.id)).where(Part.type == part_type)).scalar_one()

    def skipped_count(self) -> int:
        with self.read() as s:
            return s.execute(select(func.count()).select_from(Skipped)).scalar_one()

    def skipped_list(self, limit: int = 50) -> list[SkippedFile]:
        with self.read() as s:
            return [SkippedFile(a, b, c) for a, b, c in s.execute(
                select(Skipped.path, Skipped.reason, Skipped.detail).order_by(Skipped.path).limit(limit))]


def path_words(path: str) -> str:
    """The searchable words of a path: its file name without extension and its last three folders."""
    p = Path(display(path))
    return " ".join([*p.parts[-4:-1], p.stem])


def _under_any(column: Any, folders: Sequence[str]) -> Any:
    """SQL: the column's path is one of ``folders`` or lies under one (compared in the stored form)."""
    conds = []
    for f in folders:
        prefix = to_db(f.rstrip(os.sep) + os.sep)
        conds.append((column == literal(to_db(f), String())) | (func.substr(column, 1, len(prefix)) == literal(prefix, String())))
    return or_(*conds) if conds else false()


@contextmanager
def _lock(path: Path, waiting_for: str) -> Iterator[None]:
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=120)
    except Timeout as e:
        raise LibraryError(f"Gave up waiting after 2 minutes: {waiting_for}.", kind="busy") from e
    try:
        yield
    finally:
        lock.release()


def _disk_full(folder: Path) -> bool:
    """Whether the disk holding ``folder`` has (next to) no space left: SQLite reports some writes that fail
    for want of space as a plain "disk I/O error"."""
    try:
        return shutil.disk_usage(folder).free < 256 * 1024
    except OSError:
        return False


def _rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE touched (SQLAlchemy's CursorResult)."""
    return int(getattr(result, "rowcount", 0) or 0)


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


def _begin(conn: Any) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE" if conn.get_execution_options().get("organizer_write") else "BEGIN")


def _pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # no implicit BEGIN from the sqlite3 module: see _begin
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA synchronous=NORMAL")  # the journal mode (WAL) is the file's own: set once, see Store._wal
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def _pragmas_ro(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA busy_timeout=30000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()

