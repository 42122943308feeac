"""Schema versions and the steps between them.

Version 1 is the first schema. A later change adds ``SCHEMA_VERSION = N`` in schema.py and a
function ``_to_N(conn)`` here, registered in ``STEPS``; opening an older library runs each missing
step in order, inside one transaction, then records the new version.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, inspect, text

from organizer.errors import LibraryError
from organizer.store.schema import (
    FTS_DDL,
    SCHEMA_VERSION,
    AnalysisPoint,
    AnalysisRun,
    Base,
    Cluster,
    Label,
    LabelMember,
    PhotoLandmark,
)

_TRIGGERS = (
    "CREATE TRIGGER IF NOT EXISTS photos_words_ad AFTER DELETE ON photos "
    "BEGIN DELETE FROM photo_words WHERE rowid = old.id; END",
)


def _to_1(conn: Connection) -> None:
    # the tables as version 1 had them (photos with today's columns); later steps add what came after
    tables = [t for t in Base.metadata.sorted_tables
              if t.name not in ("analysis_runs", "clusters", "analysis_points", "photo_landmarks", "labels",
                               "label_members")]
    Base.metadata.create_all(conn, tables=tables)
    conn.execute(text(FTS_DDL))
    for ddl in _TRIGGERS:
        conn.execute(text(ddl))


def _to_2(conn: Connection) -> None:
    """Version 2 adds stored clusters and projections."""
    Base.metadata.create_all(conn, tables=[AnalysisRun.__table__, Cluster.__table__, AnalysisPoint.__table__])


def _to_3(conn: Connection) -> None:
    """Version 3 adds landmark labels: three columns on photos and the photo_landmarks table."""
    have = {c["name"] for c in inspect(conn).get_columns("photos")}
    for column, kind in (("landmark_head", "VARCHAR"), ("landmark", "VARCHAR"), ("landmark_p", "FLOAT")):
        if column not in have:
            conn.execute(text(f"ALTER TABLE photos ADD COLUMN {column} {kind}"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_photos_landmark ON photos (landmark)"))
    conn.execute(text("CREATE INDEX IF NOT EXISTS ix_photos_landmark_head ON photos (landmark_head)"))
    Base.metadata.create_all(conn, tables=[PhotoLandmark.__table__])


def _to_4(conn: Connection) -> None:
    """Version 4 adds the user's labels."""
    Base.metadata.create_all(conn, tables=[Label.__table__, LabelMember.__table__])


STEPS: dict[int, Callable[[Connection], None]] = {1: _to_1, 2: _to_2, 3: _to_3, 4: _to_4}


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("meta"):
        return 0
    row = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).first()
    return int(row[0]) if row else 0


def migrate(conn: Connection) -> int:
    version = current_version(conn)
    if version > SCHEMA_VERSION:
        raise LibraryError(
            f"This library was written by a newer organizer (schema {version}, this one knows {SCHEMA_VERSION}). "
            "Update organizer to open it.")
    for step in range(version + 1, SCHEMA_VERSION + 1):
        STEPS[step](conn)
        conn.execute(text("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', :v)"), {"v": str(step)})
    return SCHEMA_VERSION
