"""Rotating backups of the library database (SQLite's online backup API), and restoring one."""

from __future__ import annotations

import os
import sqlite3
from datetime import datetime
from pathlib import Path

from organizer.errors import LibraryError
from organizer.fsutil import fsync

FOLDER = "backups"
KEEP = 7  # the newest backups kept; older ones are deleted as new ones are made
SUFFIX = ".sqlite3"


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


def restore(db_path: Path, library: Path, backup: Path | None = None) -> tuple[Path, Path | None]:
    """Put ``backup`` (default: the newest) in place of the database; returns (restored from, the copy of
    the replaced database kept in backups/, or None when there was none)."""
    chosen = backup or newest(library)
    if chosen is None:
        raise LibraryError(f"There is no backup of this library (looked in {library / FOLDER}).")
    if not chosen.is_file():
        raise LibraryError(f"No backup at {chosen}.")
    try:
        check = sqlite3.connect(chosen.as_uri() + "?mode=ro", uri=True)
        try:
            ok = check.execute("PRAGMA quick_check").fetchone()[0] == "ok"
        finally:
            check.close()
    except sqlite3.DatabaseError as e:
        raise LibraryError(f"The backup {chosen} cannot be read: {e}") from e
    if not ok:
        raise LibraryError(f"The backup {chosen} is damaged too; choose an older one.")
    kept = None
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
    return chosen, kept


def _copy(source: Path, target: Path) -> None:
    """A consistent copy of a database (SQLite's online backup API, others may be writing), written beside
    the target, synced, then renamed into place: the target is the old file or the whole new one."""
    tmp = target.with_name(target.name + ".partial")
    src = sqlite3.connect(source.as_uri() + "?mode=ro", uri=True, timeout=30)
    try:
        dst = sqlite3.connect(tmp)
        try:
            src.backup(dst)
        finally:
            dst.close()
    finally:
        src.close()
    fsync(tmp)
    os.replace(tmp, target)
    fsync(target.parent)
