"""Schema versions and the steps between them.

Each step is the DDL of its version as it was released, frozen here (never derived from today's
table classes, which keep changing): a library of any version runs the missing steps in order,
inside one transaction, and records the new version. A later change adds ``SCHEMA_VERSION = N`` in
schema.py and a ``_to_N`` step below, registered in ``STEPS``.
"""

from __future__ import annotations

from collections.abc import Callable

from sqlalchemy import Connection, inspect, text

from organizer.errors import LibraryError
from organizer.store.schema import SCHEMA_VERSION

V1 = (
    """CREATE TABLE meta ("key" VARCHAR NOT NULL, value TEXT NOT NULL, PRIMARY KEY ("key"))""",
    """CREATE TABLE photos (
        id INTEGER NOT NULL, hash VARCHAR(32) NOT NULL, size INTEGER NOT NULL, format VARCHAR(8) NOT NULL,
        width INTEGER NOT NULL, height INTEGER NOT NULL, taken_at DATETIME, camera_make VARCHAR,
        camera_model VARCHAR, gps_lat FLOAT, gps_lon FLOAT, parts_key VARCHAR, added_at DATETIME NOT NULL,
        PRIMARY KEY (id), UNIQUE (hash))""",
    "CREATE INDEX ix_photos_parts_key ON photos (parts_key)",
    """CREATE TABLE skipped (
        path VARCHAR NOT NULL, reason VARCHAR NOT NULL, detail TEXT NOT NULL, size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL, at DATETIME NOT NULL, PRIMARY KEY (path))""",
    """CREATE TABLE parts (
        id INTEGER NOT NULL, photo_id INTEGER NOT NULL, type VARCHAR(16) NOT NULL, label VARCHAR,
        x0 FLOAT NOT NULL, y0 FLOAT NOT NULL, x1 FLOAT NOT NULL, y1 FLOAT NOT NULL, confidence FLOAT, text TEXT,
        PRIMARY KEY (id), FOREIGN KEY(photo_id) REFERENCES photos (id) ON DELETE CASCADE)""",
    "CREATE INDEX ix_parts_type ON parts (type)",
    "CREATE INDEX ix_parts_photo_id ON parts (photo_id)",
    """CREATE TABLE paths (
        id INTEGER NOT NULL, path VARCHAR NOT NULL, photo_id INTEGER NOT NULL, size INTEGER NOT NULL,
        mtime_ns INTEGER NOT NULL, PRIMARY KEY (id), UNIQUE (path),
        FOREIGN KEY(photo_id) REFERENCES photos (id) ON DELETE CASCADE)""",
    "CREATE INDEX ix_paths_photo_id ON paths (photo_id)",
    """CREATE TABLE embeddings (
        id INTEGER NOT NULL, part_id INTEGER NOT NULL, model VARCHAR NOT NULL, modality VARCHAR(8) NOT NULL,
        vector BLOB NOT NULL, PRIMARY KEY (id), UNIQUE (part_id, model),
        FOREIGN KEY(part_id) REFERENCES parts (id) ON DELETE CASCADE)""",
    "CREATE INDEX ix_embeddings_model_id ON embeddings (model, id)",
    "CREATE VIRTUAL TABLE photo_words USING fts5(words, tokenize = 'unicode61 remove_diacritics 2')",
    "CREATE TRIGGER photos_words_ad AFTER DELETE ON photos "
    "BEGIN DELETE FROM photo_words WHERE rowid = old.id; END",
)

V2 = (
    """CREATE TABLE analysis_runs (
        kind VARCHAR NOT NULL, signature VARCHAR NOT NULL, params TEXT NOT NULL, created_at DATETIME NOT NULL,
        seconds FLOAT NOT NULL, PRIMARY KEY (kind))""",
    """CREATE TABLE clusters (
        kind VARCHAR NOT NULL, label INTEGER NOT NULL, name VARCHAR NOT NULL, photos INTEGER NOT NULL,
        cover_photo_id INTEGER, PRIMARY KEY (kind, label))""",
    """CREATE TABLE analysis_points (
        kind VARCHAR NOT NULL, part_id INTEGER NOT NULL, photo_id INTEGER NOT NULL, label INTEGER NOT NULL,
        x FLOAT, y FLOAT, z FLOAT, sampled BOOLEAN NOT NULL, PRIMARY KEY (kind, part_id))""",
    "CREATE INDEX ix_analysis_points_photo_id ON analysis_points (photo_id)",
)

V3 = (
    "ALTER TABLE photos ADD COLUMN landmark_head VARCHAR",
    "ALTER TABLE photos ADD COLUMN landmark VARCHAR",
    "ALTER TABLE photos ADD COLUMN landmark_p FLOAT",
    "CREATE INDEX ix_photos_landmark ON photos (landmark)",
    "CREATE INDEX ix_photos_landmark_head ON photos (landmark_head)",
    """CREATE TABLE photo_landmarks (
        photo_id INTEGER NOT NULL, rank INTEGER NOT NULL, "key" VARCHAR NOT NULL, name VARCHAR NOT NULL,
        probability FLOAT NOT NULL, distance_km FLOAT, PRIMARY KEY (photo_id, rank),
        FOREIGN KEY(photo_id) REFERENCES photos (id) ON DELETE CASCADE)""",
)

V4 = (
    """CREATE TABLE labels (
        id INTEGER NOT NULL, name VARCHAR NOT NULL, created_at DATETIME NOT NULL, PRIMARY KEY (id), UNIQUE (name))""",
    """CREATE TABLE label_members (
        label_id INTEGER NOT NULL, part_id INTEGER NOT NULL, positive BOOLEAN NOT NULL,
        PRIMARY KEY (label_id, part_id), FOREIGN KEY(label_id) REFERENCES labels (id) ON DELETE CASCADE,
        FOREIGN KEY(part_id) REFERENCES parts (id) ON DELETE CASCADE)""",
)

# Version 5: missing files are kept (paths.missing_since), and a pass that could not read a photo
# records which model or parts key failed instead of retrying it at every start.
V5 = (
    "ALTER TABLE paths ADD COLUMN missing_since DATETIME",
    "CREATE INDEX ix_paths_missing_since ON paths (missing_since)",
    "ALTER TABLE photos ADD COLUMN whole_failed VARCHAR",
    "ALTER TABLE photos ADD COLUMN parts_failed VARCHAR",
)

# Version 6: faces (a part type of their own, with landmarks and a quality) and their own pass; places.
V6 = (
    "ALTER TABLE photos ADD COLUMN place VARCHAR",
    "ALTER TABLE photos ADD COLUMN place_words VARCHAR",
    "ALTER TABLE photos ADD COLUMN faces_key VARCHAR",
    "ALTER TABLE photos ADD COLUMN faces_failed VARCHAR",
    "CREATE INDEX ix_photos_faces_key ON photos (faces_key)",
    """CREATE TABLE faces (
        part_id INTEGER NOT NULL, landmarks TEXT NOT NULL, quality FLOAT NOT NULL, PRIMARY KEY (part_id),
        FOREIGN KEY(part_id) REFERENCES parts (id) ON DELETE CASCADE)""",
)

# Version 7: files in roles (the RAW of a RAW+JPEG pair is a file of the JPEG's photo, with its own hash);
# videos (a duration; frames as parts at a time in the clip).
V7 = (
    "ALTER TABLE photos ADD COLUMN duration FLOAT",
    "ALTER TABLE photos ADD COLUMN frames_key VARCHAR",
    "ALTER TABLE photos ADD COLUMN motion_offset INTEGER",
    "ALTER TABLE parts ADD COLUMN at_seconds FLOAT",
    # files skipped before as not images (RAWs, videos) are read again at the next scan, which now knows them
    "DELETE FROM skipped WHERE reason IN ('not an image', 'unsupported image format')",
    "ALTER TABLE paths ADD COLUMN role VARCHAR(8)",
    "ALTER TABLE paths ADD COLUMN hash VARCHAR(32)",
)

# Version 8: files read in a stream (RAWs, videos, files in roles) are fingerprinted with BLAKE3; those hashed
# before with BLAKE2b are listed to be hashed again by the next scan, and so are RAWs an organizer before
# schema 7 read as their TIFF thumbnail (to be read again as the RAWs they are). The extensions are frozen here.
# Photos keep the lens model their camera recorded.
_RAW_LIKE = " OR ".join(f"lower(paths.path) LIKE '%.{x}'" for x in (
    "dng", "cr2", "crw", "nef", "nrw", "arw", "srf", "sr2", "pef", "srw", "3fr", "fff", "erf", "kdc", "dcr", "mos",
    "iiq", "mef", "raw", "rwl", "x3f", "mrw"))
V8 = (
    """CREATE TABLE rehash (path VARCHAR NOT NULL, why VARCHAR(8) NOT NULL, PRIMARY KEY (path))""",
    "INSERT OR IGNORE INTO rehash (path, why) SELECT path, 'hash' FROM paths WHERE hash IS NOT NULL",
    "INSERT OR IGNORE INTO rehash (path, why) SELECT paths.path, 'hash' FROM paths JOIN photos ON photos.id = "
    "paths.photo_id WHERE paths.hash IS NULL AND (photos.format IN ('RAW', 'DNG') OR photos.duration IS NOT NULL)",
    "INSERT OR IGNORE INTO rehash (path, why) SELECT paths.path, 'reread' FROM paths JOIN photos ON photos.id = "
    f"paths.photo_id WHERE paths.hash IS NULL AND photos.format = 'TIFF' AND ({_RAW_LIKE})",
    "ALTER TABLE photos ADD COLUMN lens VARCHAR",
)

DDL: dict[int, tuple[str, ...]] = {1: V1, 2: V2, 3: V3, 4: V4, 5: V5, 6: V6, 7: V7, 8: V8}


def _step(version: int) -> Callable[[Connection], None]:
    def run(conn: Connection) -> None:
        for ddl in DDL[version]:
            conn.execute(text(ddl))

    return run


STEPS: dict[int, Callable[[Connection], None]] = {v: _step(v) for v in DDL}
assert max(STEPS) == SCHEMA_VERSION, "every schema version needs its step"


def current_version(conn: Connection) -> int:
    if not inspect(conn).has_table("meta"):
        return 0
    row = conn.execute(text("SELECT value FROM meta WHERE key = 'schema_version'")).first()
    return int(row[0]) if row else 0


def check_version(version: int) -> None:
    if version > SCHEMA_VERSION:
        raise LibraryError(
            f"This library was written by a newer organizer (schema {version}, this one knows {SCHEMA_VERSION}). "
            "Update organizer to open it.")


def migrate(conn: Connection, upto: int = SCHEMA_VERSION) -> int:
    version = current_version(conn)
    check_version(version)
    for step in range(version + 1, upto + 1):
        STEPS[step](conn)
        conn.execute(text("INSERT OR REPLACE INTO meta(key, value) VALUES ('schema_version', :v)"), {"v": str(step)})
    return max(version, upto)
