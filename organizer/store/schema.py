"""Tables of the library database (SQLAlchemy 2.0 declarative)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Float, ForeignKey, Index, Integer, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from organizer.store.paths import FsPath

SCHEMA_VERSION = 8


class Base(DeclarativeBase):
    pass


class Meta(Base):
    __tablename__ = "meta"
    key: Mapped[str] = mapped_column(String, primary_key=True)
    value: Mapped[str] = mapped_column(Text)


class Photo(Base):
    __tablename__ = "photos"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    hash: Mapped[str] = mapped_column(String(32), unique=True)
    size: Mapped[int] = mapped_column(Integer)
    format: Mapped[str] = mapped_column(String(8))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    taken_at: Mapped[datetime | None] = mapped_column(default=None)
    camera_make: Mapped[str | None] = mapped_column(String, default=None)
    camera_model: Mapped[str | None] = mapped_column(String, default=None)
    lens: Mapped[str | None] = mapped_column(String, default=None)  # schema 8
    gps_lat: Mapped[float | None] = mapped_column(Float, default=None)
    gps_lon: Mapped[float | None] = mapped_column(Float, default=None)
    duration: Mapped[float | None] = mapped_column(Float, default=None)  # seconds: a video (schema 7)
    frames_key: Mapped[str | None] = mapped_column(String, default=None)  # the CLIP key its frames are embedded in
    motion_offset: Mapped[int | None] = mapped_column(Integer, default=None)  # a motion photo's clip, in its file
    # The settings key (models and thresholds) the photo's parts were found with; None until the
    # parts pass has run on it. A different key means the parts pass runs again.
    parts_key: Mapped[str | None] = mapped_column(String, default=None, index=True)
    added_at: Mapped[datetime] = mapped_column(default=datetime.now)
    # The landmark head that labelled the photo, and the landmark shown (above the confidence
    # threshold and, with GPS, near enough); schema 3.
    landmark_head: Mapped[str | None] = mapped_column(String, default=None, index=True)
    landmark: Mapped[str | None] = mapped_column(String, default=None, index=True)
    landmark_p: Mapped[float | None] = mapped_column(Float, default=None)
    # The CLIP model key / parts key whose pass could not read the photo's file (schema 5): the
    # pass counts it as done for that key instead of retrying it at every start.
    whole_failed: Mapped[str | None] = mapped_column(String, default=None)
    parts_failed: Mapped[str | None] = mapped_column(String, default=None)
    # The faces pass (schema 6): the key its faces were found with, or that could not read the photo.
    faces_key: Mapped[str | None] = mapped_column(String, default=None, index=True)
    faces_failed: Mapped[str | None] = mapped_column(String, default=None)
    # Where the GPS says the photo was taken, in words (schema 6): "" when no place is near, None until
    # looked up; its words (town, city, region, country) are search words.
    place: Mapped[str | None] = mapped_column(String, default=None)
    place_words: Mapped[str | None] = mapped_column(String, default=None)


class PhotoLandmark(Base):
    """A photo's top landmarks with their probabilities (schema 3)."""

    __tablename__ = "photo_landmarks"
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), primary_key=True)
    rank: Mapped[int] = mapped_column(Integer, primary_key=True)
    key: Mapped[str] = mapped_column(String)
    name: Mapped[str] = mapped_column(String)
    probability: Mapped[float] = mapped_column(Float)
    distance_km: Mapped[float | None] = mapped_column(Float, default=None)


class PhotoPath(Base):
    __tablename__ = "paths"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    path: Mapped[str] = mapped_column(FsPath, unique=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    size: Mapped[int] = mapped_column(Integer)
    mtime_ns: Mapped[int] = mapped_column(Integer)
    # Since when a scan has not found the file (schema 5); None while it is there. A scan never
    # deletes: a photo whose every path is missing stays, with its analysis and labels.
    missing_since: Mapped[datetime | None] = mapped_column(default=None, index=True)
    # What the file is to its photo (schema 7): None, a file of the photo's own bytes; "raw", the RAW of a
    # RAW+JPEG pair, "motion", the clip of a Live Photo (one shot: the still is shown, both are kept). Such a
    # file's own hash is in ``hash``.
    role: Mapped[str | None] = mapped_column(String(8), default=None)
    hash: Mapped[str | None] = mapped_column(String(32), default=None)


class Rehash(Base):
    """A file to read again once (schema 8): "hash", a RAW or video fingerprinted with BLAKE2b before streamed files
    took BLAKE3; "reread", a RAW an organizer before schema 7 read as its small TIFF thumbnail."""

    __tablename__ = "rehash"
    path: Mapped[str] = mapped_column(FsPath, primary_key=True)
    why: Mapped[str] = mapped_column(String(8))


class Part(Base):
    __tablename__ = "parts"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    photo_id: Mapped[int] = mapped_column(ForeignKey("photos.id", ondelete="CASCADE"), index=True)
    type: Mapped[str] = mapped_column(String(16), index=True)
    label: Mapped[str | None] = mapped_column(String, default=None)  # the detector's own class name
    x0: Mapped[float] = mapped_column(Float, default=0.0)
    y0: Mapped[float] = mapped_column(Float, default=0.0)
    x1: Mapped[float] = mapped_column(Float, default=1.0)
    y1: Mapped[float] = mapped_column(Float, default=1.0)
    confidence: Mapped[float | None] = mapped_column(Float, default=None)
    text: Mapped[str | None] = mapped_column(Text, default=None)
    at_seconds: Mapped[float | None] = mapped_column(Float, default=None)  # a video's frame: its time (schema 7)


class FaceInfo(Base):
    """What a face part has beyond its box and score (schema 6). Its descriptor, where it has one, is an
    embedding in the face model's own space."""

    __tablename__ = "faces"
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"), primary_key=True)
    landmarks: Mapped[str] = mapped_column(Text)  # JSON: the 5 points, fractions of the photo
    quality: Mapped[float] = mapped_column(Float)


class Embedding(Base):
    __tablename__ = "embeddings"
    __table_args__ = (UniqueConstraint("part_id", "model"), Index("ix_embeddings_model_id", "model", "id"))
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"))
    model: Mapped[str] = mapped_column(String)
    modality: Mapped[str] = mapped_column(String(8))
    vector: Mapped[bytes] = mapped_column(LargeBinary)  # float16, L2-normalised


class Skipped(Base):
    __tablename__ = "skipped"
    path: Mapped[str] = mapped_column(FsPath, primary_key=True)
    reason: Mapped[str] = mapped_column(String)
    detail: Mapped[str] = mapped_column(Text, default="")
    size: Mapped[int] = mapped_column(Integer, default=0)
    mtime_ns: Mapped[int] = mapped_column(Integer, default=0)
    at: Mapped[datetime] = mapped_column(default=datetime.now)


class AnalysisRun(Base):
    """The latest clusters or projection: what it was computed from, so it is reused until that changes."""

    __tablename__ = "analysis_runs"
    kind: Mapped[str] = mapped_column(String, primary_key=True)  # "clusters:whole", "clusters:parts", "projection"
    signature: Mapped[str] = mapped_column(String)
    params: Mapped[str] = mapped_column(Text)  # JSON
    created_at: Mapped[datetime] = mapped_column(default=datetime.now)
    seconds: Mapped[float] = mapped_column(Float, default=0.0)


class Cluster(Base):
    __tablename__ = "clusters"
    kind: Mapped[str] = mapped_column(String, primary_key=True)
    label: Mapped[int] = mapped_column(Integer, primary_key=True)  # -1: unclustered
    name: Mapped[str] = mapped_column(String)
    photos: Mapped[int] = mapped_column(Integer)
    cover_photo_id: Mapped[int | None] = mapped_column(Integer, default=None)


class AnalysisPoint(Base):
    """One clustered or projected vector (a whole photo or a part)."""

    __tablename__ = "analysis_points"
    kind: Mapped[str] = mapped_column(String, primary_key=True)
    part_id: Mapped[int] = mapped_column(Integer, primary_key=True)
    photo_id: Mapped[int] = mapped_column(Integer, index=True)
    label: Mapped[int] = mapped_column(Integer, default=-1)
    x: Mapped[float | None] = mapped_column(Float, default=None)
    y: Mapped[float | None] = mapped_column(Float, default=None)
    z: Mapped[float | None] = mapped_column(Float, default=None)
    sampled: Mapped[bool] = mapped_column(default=False)


class Label(Base):
    """A user's own concept ("Grandma", "our cabin"), schema 4."""

    __tablename__ = "labels"
    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String, unique=True)
    created_at: Mapped[datetime] = mapped_column(default=datetime.now)


class LabelMember(Base):
    """A part (a whole photo or an outlined object) the user put in a label, or rejected from it."""

    __tablename__ = "label_members"
    label_id: Mapped[int] = mapped_column(ForeignKey("labels.id", ondelete="CASCADE"), primary_key=True)
    part_id: Mapped[int] = mapped_column(ForeignKey("parts.id", ondelete="CASCADE"), primary_key=True)
    positive: Mapped[bool] = mapped_column(default=True)


# Keyword search over file and folder names and OCR text (one row per photo).
FTS_DDL = (
    "CREATE VIRTUAL TABLE IF NOT EXISTS photo_words USING fts5("
    "words, tokenize = 'unicode61 remove_diacritics 2')"
)
