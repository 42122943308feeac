"""The record types the store takes and returns: plain dataclasses, no SQLAlchemy rows."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import numpy as np

from organizer.parts import Box


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
    lens: str | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    duration: float | None = None  # seconds: a video
    motion_offset: int | None = None  # a motion photo (a JPEG carrying its clip): where the clip starts

    @classmethod
    def of(cls, h: str, size: int, meta: Any) -> PhotoInfo:
        """The record of a decoded photo's metadata (media.exif.PhotoMeta) under its hash and size."""
        fields = ("format", "width", "height", "taken_at", "camera_make", "camera_model", "lens", "gps_lat",
                  "gps_lon", "duration", "motion_offset")
        return cls(hash=h, size=size, **{f: getattr(meta, f) for f in fields})


@dataclass(slots=True)
class NewPart:
    type: str
    vector: np.ndarray  # float32, L2-normalised
    modality: str
    box: Box = (0.0, 0.0, 1.0, 1.0)
    confidence: float | None = None
    label: str | None = None
    text: str | None = None
    space: str | None = None  # the vector's model key where it is not CLIP's (a face descriptor)
    landmarks: list[tuple[float, float]] | None = None  # a face's 5 points
    quality: float | None = None  # a face's quality (0..1)
    at_seconds: float | None = None  # a video's frame: its time in the clip


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
    box: Box
    confidence: float | None
    label: str | None
    text: str | None
    at_seconds: float | None = None  # a video's frame: its time in the clip


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


@dataclass(slots=True)
class PhotoRecord:
    """One photo as the library shows it: metadata and where its files are (or were)."""

    id: int
    hash: str
    width: int
    height: int
    format: str
    taken_at: str | None = None  # ISO 8601
    camera: str | None = None
    gps: tuple[float, float] | None = None
    landmark: str | None = None
    landmark_p: float | None = None
    paths: list[str] = field(default_factory=list)  # present files; all of them when every one is missing
    missing_paths: list[str] = field(default_factory=list)
    missing: bool = False  # no file of it was found by the last scans
    place: str | None = None  # where the GPS says it was taken, in words ("Lisbon, Portugal")
    duration: float | None = None  # seconds: a video
    motion_offset: int | None = None  # a motion photo (a JPEG carrying its clip): where the clip starts
    roles: dict[str, str] = field(default_factory=dict)  # path -> "raw" or "motion": a file kept with the still
    lens: str | None = None  # the lens model the camera recorded

    @property
    def motion_path(self) -> str | None:
        """A Live Photo's clip: the motion file kept with the still, present where one is."""
        clips = [p for p, r in self.roles.items() if r == "motion"]
        return next((p for p in clips if p in self.paths), clips[0] if clips else None)


@dataclass(slots=True)
class PhotoDetails(PhotoRecord):
    """A photo with its parts and its top landmarks (name, probability, km), as the photo window shows it."""

    parts: list[PartRow] = field(default_factory=list)
    landmarks: list[tuple[str, float, float | None]] = field(default_factory=list)


@dataclass(slots=True)
class PhotoRow:
    """A gallery row: the photo, the file to show, the hash its thumbnail is cached under."""

    id: int
    path: str
    hash: str
    missing: bool = False  # none of its files was found by the last scans
    taken_at: str | None = None  # ISO 8601
    duration: float | None = None  # seconds: a video (the gallery marks it)
    raw: bool = False  # a RAW is kept with it (a RAW+JPEG pair)
    live: bool = False  # it has a motion clip (a Live Photo, a motion photo)


@dataclass(slots=True)
class LibraryStats:
    photos: int = 0
    paths: int = 0
    missing_photos: int = 0
    missing_paths: int = 0
    parts: dict[str, int] = field(default_factory=dict)  # by type, whole photos left out
    skipped: dict[str, int] = field(default_factory=dict)  # by reason
    vectors_by_model: dict[str, int] = field(default_factory=dict)
    whole_pass_done: int = 0
    whole_pass_failed: int = 0
    parts_pass_done: int = 0
    parts_pass_failed: int = 0
    landmarks_checked: int = 0
    photos_with_landmark: int = 0


@dataclass(slots=True)
class SkippedFile:
    path: str
    reason: str
    detail: str


@dataclass(slots=True)
class LibraryStatus(LibraryStats):
    """Everything `status` reports: the counts, where the library is, its models, what needs attention."""

    library: str = ""
    models: dict[str, str | None] = field(default_factory=dict)  # role -> model key (None: off)
    skipped_files: list[SkippedFile] = field(default_factory=list)  # the first 50
    missing_files: list[str] = field(default_factory=list)  # the first 50
    pending_roots: list[str] = field(default_factory=list)
    backups: int = 0
    newest_backup: str | None = None
    faces_pass_done: int = 0
    faces_off: str | None = None  # why faces are off (None: on)
    backup_failed: str | None = None  # when the last backup failed and why (None: it did not, or one worked since)
    read_only: bool = False  # the library could only be opened for reading (read-only media, a full disk)
    offline: list[tuple[str, int]] = field(default_factory=list)  # folders not there now, with their photos
    # CLIP's path now ("onnx int8", "torch bf16"...; None: not loaded) and the int8 check's verdict (None: not made)
    precision: dict[str, Any] | None = None
