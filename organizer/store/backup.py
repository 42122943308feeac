"""Rotating backups of the library database (SQLite's online backup API), and restoring one."""

from __future__ import annotations

import contextlib
import json
import os
import sqlite3
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from organizer.errors import LibraryError
from organizer.fsutil import fsync, write_atomic

FOLDER = "backups"
KEEP = 7  # the newest backups kept; older ones are deleted as new ones are made
SUFFIX = ".sqlite3"
FAILURE = "backup-failed.json"  # in the library folder while the last backup failed: status and the window say so
ID_KEY = "library_id"  # meta key: which library a database (and so a backup) belongs to


@dataclass(frozen=True, slots=True)
class Failure:
    when: str  # ISO 8601, local time
    reason: str  # what the backup was for ("daily", "before-forget", ...)
    message: str  # why it failed, in words


def note_failure(library: Path, reason: str | None, message: str = "") -> None:
    """Remember that a backup for ``reason`` failed (``reason`` None: one succeeded, forget the failure)."""
    target = library / FAILURE
    with contextlib.suppress(OSError):  # where even this cannot be written, the error itself is shown
        if reason is None:
            target.unlink(missing_ok=True)
        else:
            write_atomic(target, json.dumps({"when": datetime.now().isoformat(timespec="seconds"),
                                             "reason": reason, "message": message}))


def last_failure(library: Path) -> Failure | None:
    try:
        data = json.loads((library / FAILURE).read_text(encoding="utf-8"))
        return Failure(str(data["when"]), str(data["reason"]), str(data["message"]))
    except (OSError, ValueError, KeyError, TypeError):
        return None


def library_id(db: Path) -> str | None:
    """The id of the library a database file belongs to (None: unknown, or unreadable)."""
    try:
        # not mode=ro: a read-only connection to a database in WAL mode leaves its -wal and -shm files behind
        conn = sqlite3.connect(db)
        try:
            row = conn.execute("SELECT value FROM meta WHERE key = ?", (ID_KEY,)).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return str(row[0]) if row else None


def backups(library: Path) -> list[Path]:
    """The library's backups, newest first."""
    folder = library / FOLDER
    if not folder.is_dir():
        return []
    return sorted((p for p in folder.iterdir() if p.name.startswith("library-") and p.suffix == SUFFIX),
                  key=lambda p: (p.stat().st_mtime_ns, p.name), reverse=True)


def newest(library: Path) -> Path | None:
    found = backups(library)
    return found[0] if found else None


def make(db_path: Path, library: Path, reason: str, keep: int = KEEP) -> Path:
    """Copy the database, consistently even while others write, into ``backups/``; keep the newest ``keep``."""
    folder = library / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
    dest = folder / f"library-{stamp}-{reason}{SUFFIX}"
    _copy(db_path, dest)
    for old in backups(library)[keep:]:
        old.unlink(missing_ok=True)
    return dest


def restore(db_path: Path, library: Path, backup: Path | None = None,
            other_library: bool = False) -> tuple[Path, Path | None]:
    """Put ``backup`` (default: the newest) in place of the database; returns (restored from, the copy of
    the replaced database kept in backups/, or None when there was none). A backup of another library is
    refused (kind "other-library") unless ``other_library``."""
    chosen = backup or newest(library)
    if chosen is None:
        raise LibraryError(f"There is no backup of this library (looked in {library / FOLDER}).")
    if not chosen.is_file():
        raise LibraryError(f"No backup at {chosen}.")
    try:
        check = sqlite3.connect(chosen)  # not mode=ro: see library_id
        try:
            ok = check.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            check.close()
    except sqlite3.DatabaseError as e:
        raise LibraryError(f"The backup {chosen} cannot be read: {e}") from e
    if not ok:
        raise LibraryError(f"The backup {chosen} is damaged too; choose an older one.")
    if not other_library and db_path.is_file():
        ours, theirs = library_id(db_path), library_id(chosen)
        if ours and theirs and ours != theirs:
            raise LibraryError(f"The backup {chosen} is of another library, not of the one at {library}: restoring "
                               "it replaces this library's photos, labels and people with that library's.",
                               kind="other-library")
    kept = None
    try:
        if db_path.exists():  # the replaced database stays available, damaged or not
            stamp = datetime.now().strftime("%Y%m%d-%H%M%S-%f")
            kept = library / FOLDER / f"replaced-{stamp}{SUFFIX}"
            kept.parent.mkdir(parents=True, exist_ok=True)
            os.replace(db_path, kept)
            for side in ("-wal", "-shm"):
                extra = db_path.with_name(db_path.name + side)
                if extra.exists():
                    os.replace(extra, kept.with_name(kept.name + side))
        _copy(chosen, db_path)
    except (OSError, sqlite3.Error) as e:
        if kept is not None and not db_path.exists():  # put the replaced database back where it was
            with contextlib.suppress(OSError):
                os.replace(kept, db_path)
                kept = None
        why = getattr(e, "strerror", None) or str(e)
        raise LibraryError(f"Could not restore {chosen} into {library}: {why}. The library is as it was"
                           + ("." if kept is None else f"; its database is kept as {kept}."),
                           kind="read-only" if isinstance(e, OSError) and e.errno == 30 else "other") from e
    return chosen, kept


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of a database (SQLite's online backup API, others may be writing), written beside
    the target, synced, then renamed into place: the target is the old file or the whole new one, and a
    failure (a full disk, a killed process) leaves no partial file. The copy is in rollback-journal mode, so
    that reading it (a check, a restore) leaves no -wal or -shm file beside it."""
    tmp = target.with_name(target.name + ".partial")
    try:
        src = sqlite3.connect(source.absolute().as_uri() + "?mode=ro", uri=True, timeout=30)
        try:
            dst = sqlite3.connect(tmp)
            try:
                src.backup(dst)
                dst.execute("PRAGMA journal_mode=DELETE")
            finally:
                dst.close()
        finally:
            src.close()
        fsync(tmp)
        os.replace(tmp, target)
    except BaseException:
        for litter in (tmp, tmp.with_name(tmp.name + "-journal")):
            with contextlib.suppress(OSError):
                litter.unlink()
        raise
    fsync(target.parent)
