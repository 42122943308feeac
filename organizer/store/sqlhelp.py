"""What the repositories share: IN-clause chunks, path words and prefixes, rows to records."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any, TypeVar

import numpy as np
from sqlalchemy import (
    ColumnElement,
    String,
    case,
    false,
    func,
    literal,
    or_,
)

from organizer import fsutil
from organizer.paths import display
from organizer.store.paths import to_db
from organizer.store.records import (
    PartRow,
    VectorRows,
)
from organizer.store.schema import (
    Part,
    PhotoPath,
)

CHUNK = 500  # ids per IN (...) clause


def shown_path() -> ColumnElement[Any]:
    """SQL, over a photo's paths grouped by photo: the file to show and read, the first by name of the files of
    the photo's own bytes; the first of its other files (the RAW of a RAW+JPEG pair) where it has no such file."""
    return func.coalesce(func.min(case((PhotoPath.role.is_(None), PhotoPath.path))), func.min(PhotoPath.path))


T = TypeVar("T")


def chunked(items: Iterable[T], n: int = CHUNK) -> Iterator[list[T]]:
    """Lists of at most ``n`` items (for SQL IN clauses)."""
    return fsutil.chunked(items, n)


def path_words(path: str) -> str:
    """The searchable words of a path: its file name without extension and its last three folders."""
    p = Path(display(path))
    return " ".join([*p.parts[-4:-1], p.stem])


def under_any(column: Any, folders: Sequence[str]) -> Any:
    """SQL: the column's path is one of ``folders`` or lies under one (compared in the stored form)."""
    conds = []
    for f in folders:
        prefix = to_db(f.rstrip(os.sep) + os.sep)
        conds.append((column == literal(to_db(f), String())) | (func.substr(column, 1, len(prefix)) == literal(prefix, String())))
    return or_(*conds) if conds else false()


def rowcount(result: Any) -> int:
    """Rows an UPDATE or DELETE touched (SQLAlchemy's CursorResult)."""
    return int(getattr(result, "rowcount", 0) or 0)


def vector_rows(rows: Sequence[Any]) -> VectorRows:
    if not rows:
        return VectorRows(np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, np.int64), [], [],
                          np.zeros((0, 0), np.float16))
    cols = list(zip(*rows, strict=True))
    matrix = np.frombuffer(b"".join(cols[5]), dtype=np.float16).reshape(len(rows), -1)
    return VectorRows(np.asarray(cols[0], np.int64), np.asarray(cols[1], np.int64),
                      np.asarray(cols[2], np.int64), list(cols[3]), list(cols[4]), matrix)


def pack(vec: np.ndarray) -> bytes:
    return np.asarray(vec, dtype=np.float16).tobytes()


def part_row(p: Part) -> PartRow:
    return PartRow(p.id, p.photo_id, p.type, (p.x0, p.y0, p.x1, p.y1), p.confidence, p.label, p.text, p.at_seconds)
