"""Videos (MP4, MOV, M4V, 3GP, MKV, WebM, AVI) through OpenCV's FFmpeg build.

OpenCV's wheels carry FFmpeg built under the LGPL (no x264 or x265 encoders), and OpenCV is installed with
RapidOCR anyway, so the installers can ship it; PyAV's wheels bundle GPL codecs. A video is never read into
memory: its bytes are hashed in a stream and OpenCV reads the frames it is asked for, placed by timestamp
(variable frame rates included), turned upright by the rotation in the container. Duration, date and GPS
come from the container: MP4 and QuickTime boxes are read here (``mvhd``, Apple's ``©xyz`` and location key);
Matroska, WebM and AVI give their duration only.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import BinaryIO

import numpy as np
from PIL import Image

from organizer.media.exif import PhotoMeta

# ISO media brands of still pictures (HEIC, AVIF, Canon's CR3): not videos
_STILL_BRANDS = (b"heic", b"heix", b"hevc", b"hevx", b"heim", b"heis", b"mif1", b"msf1", b"avif", b"avis", b"crx ")
_QUICKTIME_FIRST = (b"moov", b"mdat", b"wide", b"free", b"skip", b"pnot")
_MATROSKA = b"\x1a\x45\xdf\xa3"
HEAD_BYTES = 16
FRAME_EVERY = 10.0  # seconds between the frames of a video that are embedded (at most MAX_FRAMES)
MAX_FRAMES = 12
_EPOCH_1904 = datetime(1904, 1, 1, tzinfo=UTC)


def looks_video(head: bytes) -> str | None:
    """The container a file's first bytes announce ("MP4", "MOV", "MKV", "AVI"), or None."""
    if len(head) >= 12 and head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in _STILL_BRANDS:
            return None
        return "MOV" if brand == b"qt  " else "3GP" if brand.startswith(b"3g") else "MP4"
    if len(head) >= 8 and head[4:8] in _QUICKTIME_FIRST and int.from_bytes(head[:4], "big") >= 8:
        return "MOV"
    if head.startswith(_MATROSKA):
        return "MKV"
    if head.startswith(b"RIFF") and head[8:12] == b"AVI ":
        return "AVI"
    return None


@dataclass(slots=True)
class Video:
    """What the container and the decoder say of a video."""

    duration: float  # seconds
    width: int  # upright
    height: int
    taken_at: datetime | None = None
    gps: tuple[float, float] | None = None


def open_capture(path: str):  # noqa: ANN201 - cv2.VideoCapture
    import cv2

    cap = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    if not cap.isOpened():
        cap.release()
        from organizer.media.decode import SkipError, SkipReason

        raise SkipError(SkipReason.TRUNCATED, "a video file the decoder could not open")
    return cap


def probe(path: str, cap) -> Video:  # noqa: ANN001
    """Duration, upright size, date and GPS of a video (``cap``: its open capture)."""
    import cv2

    fps = cap.get(cv2.CAP_PROP_FPS) or 0.0
    frames = cap.get(cv2.CAP_PROP_FRAME_COUNT) or 0.0
    duration = frames / fps if fps > 0 and frames > 0 else 0.0
    width, height = int(cap.get(cv2.CAP_PROP_FRAME_WIDTH)), int(cap.get(cv2.CAP_PROP_FRAME_HEIGHT))
    video = Video(duration, width, height)
    try:
        with open(path, "rb") as f:
            box = _boxes_meta(f, os.fstat(f.fileno()).st_size)
    except (OSError, ValueError, struct.error):
        box = {}
    if box.get("duration") and not video.duration:
        video.duration = float(box["duration"])  # type: ignore[arg-type]
    video.taken_at = box.get("taken_at")  # type: ignore[assignment]
    video.gps = box.get("gps")  # type: ignore[assignment]
    return video


def content_id(path: str) -> str | None:
    """The content identifier an iPhone writes into a Live Photo's clip (QuickTime metadata; its still carries the
    same one), or None. Reads the movie box only."""
    try:
        with open(path, "rb") as f:
            found = _boxes_meta(f, os.fstat(f.fileno()).st_size).get("content_id")
    except (OSError, ValueError, struct.error):
        return None
    return found if isinstance(found, str) else None


def frame_at(cap, seconds: float) -> Image.Image | None:  # noqa: ANN001
    """The frame shown at ``seconds`` (upright, RGB), or None where none can be decoded there."""
    import cv2

    cap.set(cv2.CAP_PROP_POS_MSEC, max(0.0, seconds) * 1000.0)
    ok, bgr = cap.read()
    if not ok or bgr is None or bgr.size == 0:
        return None
    if bgr.dtype != np.uint8:  # 10-bit or HDR output: brought into 8 bits for CLIP and thumbnails
        bgr = np.clip(bgr.astype(np.float32) / max(1.0, float(bgr.max())) * 255.0, 0, 255).astype(np.uint8)
    return Image.fromarray(bgr[..., ::-1].copy() if bgr.ndim == 3 else bgr).convert("RGB")


def poster_time(duration: float) -> float:
    """Where the poster frame is taken: a second in (the first frame is often black), within short clips."""
    return min(1.0, duration / 3) if duration > 0 else 0.0


def sample_times(duration: float, every: float = FRAME_EVERY, most: int = MAX_FRAMES) -> list[float]:
    """The times of the frames embedded besides the poster: one per ``every`` seconds, at most ``most``, spread
    over the whole clip when it is long."""
    if duration <= every:
        return []
    n = min(most, int(duration // every))
    step = duration / (n + 1)
    return [round(step * (i + 1), 3) for i in range(n)]


def distinct(frames: list[tuple[float, Image.Image]], threshold: float = 6.0) -> list[tuple[float, Image.Image]]:
    """``frames`` without near-duplicates of the one kept before them (a still scene, a tripod shot): mean
    absolute difference of 32x32 grey copies under ``threshold`` (of 255)."""
    kept: list[tuple[float, Image.Image]] = []
    last: np.ndarray | None = None
    for t, im in frames:
        small = np.asarray(im.convert("L").resize((32, 32), Image.Resampling.BILINEAR), np.float32)
        if last is None or float(np.abs(small - last).mean()) >= threshold:
            kept.append((t, im))
            last = small
    return kept


def decode_video(path: str, max_pixels: int, min_side: int | None, max_side: int | None,
                 container: str) -> tuple[Image.Image, PhotoMeta]:
    """The poster frame of a video, upright, and its metadata (duration included)."""
    cap = open_capture(path)
    try:
        video = probe(path, cap)
        if video.width * video.height > max_pixels:
            from organizer.media.decode import SkipError, SkipReason

            raise SkipError(SkipReason.TOO_LARGE, f"{video.width}x{video.height} is over the {max_pixels:,}-pixel "
                            "limit")
        poster = frame_at(cap, poster_time(video.duration)) or frame_at(cap, 0.0)
    finally:
        cap.release()
    if poster is None:
        from organizer.media.decode import SkipError, SkipReason

        raise SkipError(SkipReason.TRUNCATED, "no frame of the video could be decoded")
    meta = PhotoMeta(format=container, width=poster.width, height=poster.height, taken_at=video.taken_at,
                     duration=round(video.duration, 3))
    if video.gps is not None:
        meta.gps_lat, meta.gps_lon = video.gps
    if max_side and max(poster.size) > max_side:
        poster.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return poster, meta


PARTS_FRAMES = 2  # frames of a video searched for objects and text besides the poster (3 in all)


def scene_times(duration: float, most: int = PARTS_FRAMES) -> list[float]:
    """Where the frames searched for objects and text besides the poster are taken: spread over the clip (a third
    and two thirds in, for two), none in a clip too short to hold another scene."""
    if duration <= 3 * poster_time(duration) + 1.0:
        return []
    return [round(duration * (i + 1) / (most + 1), 3) for i in range(most)]


def frames_at(path: str, times: list[float], max_side: int,
              like: Image.Image | None = None) -> list[tuple[float, Image.Image]]:
    """The frames at ``times``, each at most ``max_side`` pixels, near-duplicates (of ``like``, the poster, too)
    left out."""
    if not times:
        return []
    cap = open_capture(path)
    out: list[tuple[float, Image.Image]] = []
    try:
        for t in times:
            im = frame_at(cap, t)
            if im is not None:
                im.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
                out.append((t, im))
    finally:
        cap.release()
    if like is None:
        return distinct(out)
    return distinct([(-1.0, like), *out])[1:]


def video_frames(path: str, duration: float, max_side: int) -> list[tuple[float, Image.Image]]:
    """The frames of a video that are embedded on their own (see :func:`sample_times`), near-duplicates left out,
    each at most ``max_side`` pixels."""
    return frames_at(path, sample_times(duration), max_side)


def motion_clip_offset(data: bytes) -> int | None:
    """Where the MP4 clip of a motion photo starts (Google's Motion Photos and Samsung's: a JPEG with the clip
    appended after its image), or None. The clip is the last ISO media file in the bytes with a movie (``moov``)
    box after it; the JPEG before it is untouched, so every viewer still shows the still."""
    at = data.rfind(b"ftyp")
    while at >= 4:
        start = at - 4
        size = int.from_bytes(data[start:at], "big")
        if 8 <= size <= 64 and looks_video(data[start:start + HEAD_BYTES]) and data.find(b"moov", at) > 0 \
                and start > 2 and data[:2] == b"\xff\xd8":
            return start
        at = data.rfind(b"ftyp", 0, at)
    return None


def extract_motion_clip(path: str, offset: int, dest: Path) -> Path:
    """Copy a motion photo's clip (the bytes from ``offset`` on) to ``dest`` in a stream, whole or not at all."""
    from organizer.fsutil import replacing

    dest.parent.mkdir(parents=True, exist_ok=True)
    with replacing(dest) as tmp, open(path, "rb") as src, open(tmp, "wb") as out:
        src.seek(offset)
        while chunk := src.read(1 << 20):
            out.write(chunk)
    return dest


# ---- MP4 and QuickTime boxes -------------------------------------------------------------------

_CONTAINERS = {b"moov", b"trak", b"mdia", b"udta", b"meta"}


def _boxes_meta(f: BinaryIO, size: int) -> dict[str, object]:
    """Date taken (UTC in ``mvhd``, turned into the computer's local time as photo dates are), duration and GPS
    from an MP4 or QuickTime file's boxes, reading only the ``moov`` box."""
    out: dict[str, object] = {}
    at = 0
    while at + 8 <= size:
        f.seek(at)
        n, kind = struct.unpack(">I4s", f.read(8))
        header = 8
        if n == 1:
            n = struct.unpack(">Q", f.read(8))[0]
            header = 16
        elif n == 0:
            n = size - at
        if n < header:
            break
        if kind == b"moov":
            if n > 64 * 1024 * 1024:
                break  # no real moov is that large: a broken file
            f.seek(at + header)
            _walk(f.read(n - header), out)
            break
        at += n
    return out


def _walk(data: bytes, out: dict[str, object]) -> None:
    at = 0
    keys: list[str] = []
    while at + 8 <= len(data):
        n, kind = struct.unpack(">I4s", data[at:at + 8])
        if n < 8 or at + n > len(data):
            break
        body = data[at + 8:at + n]
        if kind == b"mvhd":
            created, scale, dur = _mvhd(body)
            if created:
                when = _EPOCH_1904 + timedelta(seconds=created)
                if when.year > 1970:
                    out.setdefault("taken_at", when.astimezone().replace(tzinfo=None))
            if scale:
                out["duration"] = dur / scale
        elif kind == b"\xa9xyz" and len(body) > 4:
            gps = _iso6709(body[4:].decode("latin-1", "replace"))
            if gps:
                out["gps"] = gps
        elif kind == b"keys":
            keys = _keys(body)
        elif kind == b"ilst" and keys:
            for name, value in _ilst(body, keys):
                gps = _iso6709(value) if name == "com.apple.quicktime.location.ISO6709" else None
                if gps:
                    out["gps"] = gps
                elif name == "com.apple.quicktime.content.identifier" and value.strip("\x00 "):
                    out["content_id"] = value.strip("\x00 ")
        elif kind in _CONTAINERS:
            # an ISO ``meta`` box starts with a version and flags; QuickTime's holds its children at once
            _walk(body[4:] if kind == b"meta" and body[4:8] != b"hdlr" else body, out)
        at += n


def _mvhd(body: bytes) -> tuple[int, int, int]:
    """(creation time since 1904, time scale, duration) of an ``mvhd`` box's body."""
    if body[0] == 1:
        created = struct.unpack(">Q", body[4:12])[0]
        scale = struct.unpack(">I", body[20:24])[0]
        dur = struct.unpack(">Q", body[24:32])[0]
    else:
        created = struct.unpack(">I", body[4:8])[0]
        scale, dur = struct.unpack(">II", body[12:20])
    return created, scale, dur


def _keys(body: bytes) -> list[str]:
    count = struct.unpack(">I", body[4:8])[0]
    at, keys = 8, []
    for _ in range(count):
        n = struct.unpack(">I", body[at:at + 4])[0]
        keys.append(body[at + 8:at + n].decode("latin-1", "replace"))
        at += n
    return keys


def _ilst(body: bytes, keys: list[str]) -> list[tuple[str, str]]:
    out, at = [], 0
    while at + 8 <= len(body):
        n, index = struct.unpack(">II", body[at:at + 8])
        if n < 8:
            break
        item = body[at + 8:at + n]
        if item[4:8] == b"data" and 1 <= index <= len(keys):
            out.append((keys[index - 1], item[16:struct.unpack(">I", item[:4])[0]].decode("utf-8", "replace")))
        at += n
    return out


def _iso6709(text: str) -> tuple[float, float] | None:
    """Latitude and longitude of an ISO 6709 string ("+37.7858-122.4064+010.000/")."""
    import re

    m = re.match(r"\s*([+-]\d+(?:\.\d+)?)([+-]\d+(?:\.\d+)?)", text)
    if not m:
        return None
    lat, lon = float(m.group(1)), float(m.group(2))
    return (lat, lon) if -90 <= lat <= 90 and -180 <= lon <= 180 else None
