"""Undo for taking photos out of the library: their rows (photo, paths, parts, vectors, faces, labels,
landmarks) are copied into a small database in the library's undo/ folder before they are deleted, and
copied back, with the same ids, when the user undoes it."""

from __future__ import annotations

import sqlite3
import uuid
from collections.abc import Sequence
from contextlib import closing
from pathlib import Path

from organizer.errors import LibraryError

# (table, which rows belong to the photos in temp.ids), in the order they go back (parents first)
TABLES: tuple[tuple[str, str], ...] = (
    ("photos", "id IN (SELECT id FROM ids)"),
    ("paths", "photo_id IN (SELECT id FROM ids)"),
    ("parts", "photo_id IN (SELECT id FROM ids)"),
    ("embeddings", "part_id IN (SELECT id FROM main.parts WHERE photo_id IN (SELECT id FROM ids))"),
    ("faces", "part_id IN (SELECT id FROM main.parts WHERE photo_id IN (SELECT id FROM ids))"),
    ("label_members", "part_id IN (SELECT id FROM main.parts WHERE photo_id IN (SELECT id FROM ids))"),
    ("photo_landmarks", "photo_id IN (SELECT id FROM ids)"),
)


def folder(library: Path) -> Path:
    return library / "undo"


def save(db: Path, library: Path, photo_ids: Sequence[int]) -> str:
    """Copy the photos' rows aside; returns the token that :func:`restore` takes."""
    token = uuid.uuid4().hex[:12]
    target = folder(library) / f"{token}.sqlite3"
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        with closing(sqlite3.connect(db, timeout=30)) as conn:
            conn.execute("ATTACH DATABASE ? AS undo", (str(target),))
            conn.execute("CREATE TEMP TABLE ids (id INTEGER PRIMARY KEY)")
            conn.executemany("INSERT INTO ids(id) VALUES (?)", [(int(p),) for p in photo_ids])
            for table, where in TABLES:
                conn.execute(f"CREATE TABLE undo.{table} AS SELECT * FROM main.{table} WHERE {where}")
            conn.commit()
    except sqlite3.Error as e:
        target.unlink(missing_ok=True)
        raise LibraryError(f"Could not keep a copy to undo with ({e}); nothing was removed.") from e
    return token


def restore(db: Path, library: Path, token: str) -> list[int]:
    """Put the saved rows back (all or nothing); returns the photo ids back in the library."""
    source = folder(library) / f"{token}.sqlite3"
    if not source.is_file():
        raise LibraryError("Nothing to undo: its copy is gone.")
    with closing(sqlite3.connect(db, timeout=30, isolation_level=None)) as conn:
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("ATTACH DATABASE ? AS undo", (str(source),))
        try:
            conn.execute("BEGIN IMMEDIATE")
            for table, _ in TABLES:
                conn.execute(f"INSERT INTO main.{table} SELECT * FROM undo.{table}")
            ids = [r[0] for r in conn.execute("SELECT id FROM undo.photos")]
            conn.execute("COMMIT")
        except sqlite3.Error as e:
            conn.execute("ROLLBACK")
            raise LibraryError(f"Could not undo: {e} (a file of it was indexed again meanwhile?).") from e
        conn.execute("DETACH DATABASE undo")
    source.unlink(missing_ok=True)
    return ids
