"""The record types the store takes and returns: plain dataclasses, no SQLAlchemy rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import numpy as np


@dataclass(slots=True)
class FileRef:
    """A file on disk as the store records it."""

    path: str
    size: int
    mtime_ns: int


@dataclass(slots=True)
class PhotoInfo:
    hash: str
    size: int
    format: str
    width: int
    height: int
    taken_at: datetime | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None


@dataclass(slots=True)
class NewPart:
    type: str
    vector: np.ndarray  # float32, L2-normalised
    modality: str
    box: tuple[float, float, float, float] = (0.0, 0.0, 1.0, 1.0)
    confidence: float | None = None
    label: str | None = None
    text: str | None = None


@dataclass(slots=True)
class NewPhoto:
    file: FileRef
    info: PhotoInfo
    whole: NewPart
    extra_files: list[FileRef] = field(default_factory=list)  # same bytes under other paths


@dataclass(slots=True)
class VectorRows:
    embedding_ids: np.ndarray  # int64
    part_ids: np.ndarray  # int64
    photo_ids: np.ndarray  # int64
    types: list[str]
    modalities: list[str]
    matrix: np.ndarray  # float16 (n, dim)


@dataclass(slots=True)
class PartRow:
    id: int
    photo_id: int
    type: str
    box: tuple[float, float, float, float]
    confidence: float | None
    label: str | None
    text: str | None


@dataclass(slots=True)
class KnownFile:
    """A path the library knows: the photo it shows, as last seen on disk."""

    photo_id: int
    size: int
    mtime_ns: int
    missing: bool


@dataclass(slots=True)
class SkipRecord:
    size: int
    mtime_ns: int
    reason: str


@dataclass(slots=True)
class ClusterRow:
    label: int
    name: str
    photos: int
    cover_photo_id: int | None


@dataclass(slots=True)
class Points:
    part_ids: np.ndarray
    photo_ids: np.ndarray
    labels: np.ndarray
    xyz: np.ndarray  # (n, 3) float32, NaN where not projected
    sampled: np.ndarray  # bool


@dataclass(slots=True)
class CheckReport:
    """What `check` found: SQLite's own checks and the library's consistency."""

    integrity: list[str] = field(default_factory=list)
    foreign_keys: list[str] = field(default_factory=list)
    consistency: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not (self.integrity or self.foreign_keys or self.consistency)
