"""The library database's connection: engine and WAL set-up, the lost-WAL marker, locking, sessions,
errors as LibraryError, backups and the check, meta values and the change stamp. The repositories in
files.py, contents.py, vectors.py and catalog.py build on it; db.py composes them into the Store."""

from __future__ import annotations

import errno
import json
import os
import shutil
import sqlite3
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import quote

from sqlalchemy import (
    Engine,
    create_engine,
    event,
    func,
    select,
    text,
)
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from organizer import fsutil
from organizer.errors import LibraryError
from organizer.store import backup
from organizer.store.backup import Failure
from organizer.store.locks import held
from organizer.store.migrations import current_version, migrate
from organizer.store.records import (
    CheckReport,
    NewPart,
)
from organizer.store.schema import (
    SCHEMA_VERSION,
    Embedding,
    FaceInfo,
    LabelMember,
    Meta,
    Part,
    Photo,
    PhotoPath,
)
from organizer.store.sqlhelp import pack, path_words

DB_NAME = "library.sqlite3"


MARKER = "library.json"  # beside the database: what it held when last closed (a lost -wal file shows)


def _lock(path: Path, waiting_for: str) -> AbstractContextManager[None]:
    return held(path, 120, f"Gave up waiting after 2 minutes: {waiting_for}.")


def _disk_full(folder: Path) -> bool:
    """Whether the disk holding ``folder`` has (next to) no space left: SQLite reports some writes that fail
    for want of space as a plain "disk I/O error"."""
    try:
        return shutil.disk_usage(folder).free < 256 * 1024
    except OSError:
        return False


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


class StoreBase:
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

    def _add_parts(self, s: Session, photo_id: int, parts: Sequence[NewPart], model: str) -> list[int]:
        ids = []
        for p in parts:
            row = Part(photo_id=photo_id, type=p.type, label=p.label, x0=p.box[0], y0=p.box[1], x1=p.box[2],
                       y1=p.box[3], confidence=p.confidence, text=p.text, at_seconds=p.at_seconds)
            s.add(row)
            s.flush()
            if p.vector.size:  # a face too small to identify has no descriptor
                s.add(Embedding(part_id=row.id, model=p.space or model, modality=p.modality, vector=pack(p.vector)))
            if p.landmarks is not None:
                s.add(FaceInfo(part_id=row.id, landmarks=json.dumps(p.landmarks), quality=p.quality or 0.0))
            ids.append(row.id)
        return ids

    def _count_photos(self, where: Any) -> int:
        with self.read() as s:
            return s.execute(select(func.count(Photo.id)).where(where)).scalar_one()

    def _refresh_words(self, s: Session, photo_id: int) -> None:
        paths = [p for (p,) in s.execute(select(PhotoPath.path).where(PhotoPath.photo_id == photo_id))]
        texts = [t for (t,) in s.execute(select(Part.text).where(Part.photo_id == photo_id, Part.text.is_not(None))) if t]
        landmark, place = s.execute(select(Photo.landmark, Photo.place_words).where(Photo.id == photo_id)).one_or_none() \
            or (None, None)
        words = " ".join([*(path_words(p) for p in paths), *texts, landmark or "", place or ""])
        s.execute(text("DELETE FROM photo_words WHERE rowid = :id"), {"id": photo_id})
        if paths:
            s.execute(text("INSERT INTO photo_words(rowid, words) VALUES (:id, :w)"), {"id": photo_id, "w": words})
