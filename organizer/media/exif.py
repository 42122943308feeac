"""The metadata a photo carries: date taken, camera and lens, GPS position, orientation."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from PIL import Image

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_MAKE, _MODEL, _DATETIME, _ORIENTATION = 0x010F, 0x0110, 0x0132, 0x0112
_DATETIME_ORIGINAL, _LENS_MODEL = 0x9003, 0xA434


@dataclass(slots=True)
class PhotoMeta:
    format: str = ""
    width: int = 0
    height: int = 0
    orientation: int = 1
    taken_at: datetime | None = None
    camera_make: str | None = None
    camera_model: str | None = None
    lens: str | None = None
    gps_lat: float | None = None
    gps_lon: float | None = None
    duration: float | None = None  # seconds, for a video
    motion_offset: int | None = None  # a motion photo (Google's, Samsung's): where its MP4 clip starts in the file


def read_meta(im: Image.Image) -> PhotoMeta:
    meta = PhotoMeta(format=im.format or "", width=im.width, height=im.height)
    try:
        exif = im.getexif()
    except Exception:  # noqa: BLE001 - broken EXIF must not cost the photo
        return meta
    if not exif:
        return meta
    meta.orientation = _int(exif.get(_ORIENTATION)) or 1
    meta.camera_make = _text(exif.get(_MAKE))
    meta.camera_model = _text(exif.get(_MODEL))
    try:
        sub = exif.get_ifd(_EXIF_IFD)
        meta.taken_at = _date(sub.get(_DATETIME_ORIGINAL)) or _date(exif.get(_DATETIME))
        meta.lens = _text(sub.get(_LENS_MODEL))
        gps = exif.get_ifd(_GPS_IFD)
        if gps:
            lat, lon = _degrees(gps.get(2), gps.get(1)), _degrees(gps.get(4), gps.get(3))
            if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
                meta.gps_lat, meta.gps_lon = lat, lon
    except Exception:  # noqa: BLE001
        pass
    return meta


def _int(v: Any) -> int | None:
    try:
        return int(v)
    except (TypeError, ValueError):
        return None


def _text(v: Any) -> str | None:
    if isinstance(v, bytes):
        v = v.decode("utf-8", "replace")
    if not isinstance(v, str):
        return None
    v = v.strip("\x00 ").strip()
    return v or None


def _date(v: Any) -> datetime | None:
    return text_date(_text(v))


def text_date(text: str | None) -> datetime | None:
    """A date as EXIF writes it ("2024:05:17 09:30:00"), or None."""
    if not text:
        return None
    for fmt in ("%Y:%m:%d %H:%M:%S", "%Y-%m-%d %H:%M:%S", "%Y:%m:%d"):
        try:
            return datetime.strptime(text[:19], fmt)
        except ValueError:
            continue
    return None


def _degrees(value: Any, ref: Any) -> float | None:
    try:
        d, m, s = (float(x) for x in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    deg = d + m / 60 + s / 3600
    if _text(ref) in ("S", "W"):
        deg = -deg
    return deg


def apple_content_id(path: str) -> str | None:
    """The content identifier an iPhone writes into a Live Photo's still (its maker note's tag 0x0011; the clip
    carries the same one), or None. Reads the file's header only."""
    try:
        with Image.open(path) as im:
            note = im.getexif().get_ifd(0x8769).get(0x927C)
    except Exception:  # noqa: BLE001 - a still whose metadata cannot be read has no identifier
        return None
    return _apple_note_text(note, 0x0011) if isinstance(note, bytes) else None


def _apple_note_text(note: bytes, tag: int) -> str | None:
    """A text tag of Apple's maker note: "Apple iOS", a version, the byte order, then an IFD whose value offsets
    count from the note's start."""
    import struct

    if not note.startswith(b"Apple iOS\x00") or note[12:14] not in (b"MM", b"II"):
        return None
    order = ">" if note[12:14] == b"MM" else "<"
    try:
        (count,) = struct.unpack_from(order + "H", note, 14)
        for i in range(min(count, 256)):
            t, kind, n, value = struct.unpack_from(order + "HHI4s", note, 16 + 12 * i)
            if t == tag and kind == 2:  # ASCII
                raw = value[:n] if n <= 4 else note[struct.unpack(order + "I", value)[0]:][:n]
                return raw.split(b"\x00", 1)[0].decode("ascii", "replace").strip() or None
    except struct.error:
        return None
    return None
