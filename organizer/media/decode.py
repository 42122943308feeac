"""Read a file once, hash its bytes, sniff and decode it into an upright RGB image.

Everything that can go wrong with a file becomes a :class:`SkipError` carrying one of the
:class:`SkipReason` values and a one-line detail, so a run records it and goes on.
"""

from __future__ import annotations

import hashlib
import io
import os
import stat
import threading
import time
import warnings
from collections.abc import Callable, Container
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol, TypeVar

from PIL import Image, ImageOps, UnidentifiedImageError

from organizer.media.exif import PhotoMeta, read_meta
from organizer.media.limits import (
    MAX_FILE_BYTES,
    MAX_PIXELS,
    MAX_VIDEO_BYTES,
    NATIVE_DECODE_SECONDS,
    READ_STALL_SECONDS,
)
from organizer.media.raw import decode_raw, decode_raw_file, is_raw_file, looks_raw, open_raw
from organizer.media.scan import is_system, kind_of
from organizer.media.video import HEAD_BYTES, decode_video, looks_video, motion_clip_offset

try:  # HEIC/HEIF through pillow-heif; without it such files are skipped as "not an image".
    import pillow_heif

    pillow_heif.register_heif_opener()
except ImportError:  # pragma: no cover - pillow-heif is a dependency
    pass

# Our own limit (DecodeSettings.max_pixels) decides; Pillow's warning would only be noise.
warnings.simplefilter("ignore", Image.DecompressionBombWarning)

T = TypeVar("T")

FORMATS = {"JPEG", "PNG", "WEBP", "GIF", "BMP", "TIFF", "HEIF", "MPO"}


class SkipReason(StrEnum):
    EMPTY = "empty file"
    NOT_IMAGE = "not an image"
    UNSUPPORTED = "unsupported image format"
    TRUNCATED = "truncated or corrupt"
    TOO_LARGE = "too large"
    UNREADABLE = "unreadable"


class SkipError(Exception):
    def __init__(self, reason: SkipReason, detail: str = "") -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason.value}: {detail}" if detail else reason.value)


@dataclass(slots=True)
class Decoded:
    image: Image.Image  # RGB, EXIF orientation applied, possibly reduced
    meta: PhotoMeta


CHUNK = 4 * 1024 * 1024  # a read's progress is watched chunk by chunk


def read_file(path: str, max_bytes: int, stall: float = READ_STALL_SECONDS) -> bytes:
    """The bytes of a regular file, at most ``max_bytes``. Never blocks for good: a named pipe, a device or a
    file of the kernel's (/proc) is refused without a read, and a read that makes no progress for ``stall``
    seconds (a hung network share) is given up, its thread left behind (a daemon: it never holds up exit)."""
    chunks: list[bytes] = []
    _watched(path, max_bytes, stall, chunks.append)
    return b"".join(chunks)


def hash_file(path: str, max_bytes: int, stall: float = READ_STALL_SECONDS) -> tuple[str, int]:
    """The content hash and size of a file read in a stream (a RAW or a video: never held in memory), with
    :func:`read_file`'s guards. BLAKE3, 128 bits: its SIMD kernels hash a 51 MB RAW in 12 ms of CPU where BLAKE2b
    takes 60, most of a RAW's first pass (photos read whole keep BLAKE2b, :func:`content_hash`: a file is always
    read the same way, so its hash never changes; a library fingerprinted streamed files with BLAKE2b before
    schema 8, and the next scan hashes those again: see :mod:`organizer.pipeline.rehash`)."""
    from blake3 import blake3

    h = blake3()
    size = _watched(path, max_bytes, stall, h.update)
    return h.hexdigest(length=16), size


def peek(path: str, n: int, stall: float = READ_STALL_SECONDS) -> bytes:
    """The first ``n`` bytes of a file (what it is), with :func:`read_file`'s guards; no size limit."""
    chunks: list[bytes] = []
    _watched(path, None, stall, chunks.append, first=n)
    return b"".join(chunks)[:n]


def _watched(path: str, max_bytes: int | None, stall: float, sink: Callable[[bytes], object],
             first: int | None = None) -> int:
    """Read ``path`` in chunks into ``sink`` on a daemon thread watched for progress; returns the bytes read."""
    if is_system(os.path.abspath(path)):
        raise SkipError(SkipReason.NOT_IMAGE, "a file of the kernel's (/proc, /sys, /dev), not a photo: never read")
    progress = [0]
    reader, outcome = _on_daemon(lambda: _read(path, max_bytes, progress, sink, first), "organizer-read")
    seen, since = -1, time.monotonic()
    while True:
        reader.join(min(stall, 0.5))
        if not reader.is_alive():
            break
        if progress[0] != seen:
            seen, since = progress[0], time.monotonic()
        elif time.monotonic() - since >= stall:
            raise SkipError(SkipReason.UNREADABLE, f"reading it made no progress for {stall:g} s (a hung drive "
                            "or network share?); tried again at the next scan")
    return _outcome(outcome)


def _on_daemon(fn: Callable[[], T], name: str) -> tuple[threading.Thread, list[T | BaseException]]:
    """``fn()`` started on a daemon thread (one stuck in a read or in native code never holds up exit); its
    outcome, a result or what it raised, lands in the list once it ends."""
    outcome: list[T | BaseException] = []

    def run() -> None:
        try:
            outcome.append(fn())
        except BaseException as e:  # noqa: BLE001 - handed to the waiting thread
            outcome.append(e)

    thread = threading.Thread(target=run, name=name, daemon=True)
    thread.start()
    return thread, outcome


def _outcome(outcome: list[T | BaseException]) -> T:
    result = outcome[0]
    if isinstance(result, BaseException):
        raise result
    return result


def _read(path: str, max_bytes: int | None, progress: list[int], sink: Callable[[bytes], object],
          first: int | None = None) -> int:
    try:
        # O_NONBLOCK: opening a named pipe returns at once instead of waiting for a writer
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_BINARY", 0))
    except PermissionError as e:
        raise SkipError(SkipReason.UNREADABLE, f"permission denied ({e.strerror})") from e
    except FileNotFoundError as e:
        raise SkipError(SkipReason.UNREADABLE, "the file disappeared while indexing") from e
    except OSError as e:
        raise SkipError(SkipReason.UNREADABLE, e.strerror or str(e)) from e
    except ValueError as e:  # an embedded NUL in the name
        raise SkipError(SkipReason.UNREADABLE, f"{type(e).__name__}: {e}") from e
    limit = max_bytes if max_bytes is not None else 1 << 62
    try:
        st = os.fstat(fd)
        if stat.S_ISDIR(st.st_mode):
            raise SkipError(SkipReason.NOT_IMAGE, "a folder, not a file")
        if not stat.S_ISREG(st.st_mode):
            raise SkipError(SkipReason.NOT_IMAGE, f"{kind_of(st.st_mode)}, not a file: never read")
        if is_system(path, st):  # reached through a link: /proc/kmsg is a "regular file" whose read blocks
            raise SkipError(SkipReason.NOT_IMAGE, "a file of the kernel's (/proc, /sys, /dev), not a photo: never read")
        if st.st_size > limit:
            raise SkipError(SkipReason.TOO_LARGE, f"over {limit // 1_000_000} MB")
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)
        total = 0
        want = first if first is not None else limit + 1
        while total < want:
            chunk = os.read(fd, min(CHUNK, want - total))
            if not chunk:
                break
            sink(chunk)
            total += len(chunk)
            progress[0] = total
    except SkipError:
        raise
    except OSError as e:
        raise SkipError(SkipReason.UNREADABLE, e.strerror or str(e)) from e
    except MemoryError as e:  # a file too big for memory
        raise SkipError(SkipReason.UNREADABLE, f"{type(e).__name__}: {e}") from e
    finally:
        os.close(fd)
    if not total:
        raise SkipError(SkipReason.EMPTY, "zero bytes")
    if total > limit:
        raise SkipError(SkipReason.TOO_LARGE, f"over {limit // 1_000_000} MB")
    return total


def content_hash(data: bytes) -> str:
    """The photo's identity: BLAKE2b-128 of the file's bytes, as hex."""
    return hashlib.blake2b(data, digest_size=16).hexdigest()


class Limits(Protocol):
    max_pixels: int
    max_file_bytes: int
    max_video_bytes: int
    read_stall_seconds: float
    native_decode_seconds: float


@dataclass(frozen=True, slots=True)
class DefaultLimits:
    max_pixels: int = MAX_PIXELS
    max_file_bytes: int = MAX_FILE_BYTES
    max_video_bytes: int = MAX_VIDEO_BYTES
    read_stall_seconds: float = READ_STALL_SECONDS
    native_decode_seconds: float = NATIVE_DECODE_SECONDS


@dataclass(slots=True)
class Loaded:
    hash: str  # the photo's identity: BLAKE2b-128 of the file's bytes
    size: int  # bytes
    decoded: Decoded | None  # None when the hash is one the caller already has (nothing was decoded)

    @property
    def image(self) -> Image.Image:
        assert self.decoded is not None
        return self.decoded.image


def load(path: str, limits: Limits | None = None, *, min_side: int | None = None, max_side: int | None = None,
         known: Container[str] = ()) -> Loaded:
    """The one recipe for reading a photo, wherever it is read (indexing, search by example, training, the
    window): read the file, hash its bytes, and decode it upright unless its hash is ``known``, with the
    decode settings' limits (``limits``; the settings' defaults when None). Every failure is a SkipError."""
    lim = limits or DefaultLimits()
    head = peek(path, HEAD_BYTES, lim.read_stall_seconds)
    container = looks_video(head)
    if container is not None:  # hashed in a stream; OpenCV reads only the frames it needs
        h, size = hash_file(path, lim.max_video_bytes, lim.read_stall_seconds)
        if h in known:
            return Loaded(h, size, None)
        return Loaded(h, size, bounded(lambda: _guarded(lambda: Decoded(*decode_video(
            path, lim.max_pixels, min_side, max_side, container))), lim.native_decode_seconds))
    if is_raw_file(path, head):  # hashed in a stream; LibRaw reads the headers and the preview it needs
        h, size = hash_file(path, lim.max_file_bytes, lim.read_stall_seconds)
        if h in known:
            return Loaded(h, size, None)
        return Loaded(h, size, bounded(lambda: _guarded(lambda: Decoded(*decode_raw_file(
            path, lim.max_pixels, min_side, max_side))), lim.native_decode_seconds))
    data = read_file(path, lim.max_file_bytes, lim.read_stall_seconds)
    h = content_hash(data)
    if h in known:
        return Loaded(h, len(data), None)
    return Loaded(h, len(data), decode(data, lim.max_pixels, min_side=min_side, max_side=max_side))


def bounded(fn: Callable[[], T], seconds: float) -> T:
    """``fn()`` run on a daemon thread and given up after ``seconds``: native decoders (LibRaw, FFmpeg) may hang on a
    crafted or damaged file, and no exception reaches into C to stop them. The file is skipped and the run goes
    on; the thread is left behind (a daemon: it never holds up exit)."""
    worker, outcome = _on_daemon(fn, "organizer-decode")
    worker.join(seconds)
    if not outcome:
        raise SkipError(SkipReason.TRUNCATED, f"decoding did not finish within {seconds:g} s (the decoder may hang "
                        "on this file); skipped until the file changes")
    return _outcome(outcome)


def decode(data: bytes, max_pixels: int, min_side: int | None = None, max_side: int | None = None) -> Decoded:
    """Decode ``data`` into an upright RGB image.

    ``min_side``: the caller needs at least this many pixels on the short side (JPEGs are then
    decoded at a reduced scale with ``draft()``, several times faster). ``max_side``: the image is
    scaled down so that its long side is at most this.

    Whatever a decoder raises becomes a SkipError (Pillow's plugins raise NotImplementedError,
    struct.error, KeyError and more on odd files), so one odd file never ends a run.
    """
    return _guarded(lambda: _decode(data, max_pixels, min_side, max_side))


def _guarded(fn: Callable[[], Decoded]) -> Decoded:
    try:
        return fn()
    except SkipError:
        raise
    except MemoryError as e:
        raise SkipError(SkipReason.TOO_LARGE, "not enough memory to decode it") from e
    except NotImplementedError as e:
        raise SkipError(SkipReason.UNSUPPORTED, f"the decoder does not support this file ({e or 'no detail'})") from e
    except Exception as e:  # noqa: BLE001 - any decoder failure is a skip with its detail
        raise SkipError(SkipReason.TRUNCATED, f"decoder error {type(e).__name__}: {e}") from e


def _decode(data: bytes, max_pixels: int, min_side: int | None, max_side: int | None) -> Decoded:
    kind = looks_raw(data)
    if kind is not False:  # a camera RAW (or a TIFF, which LibRaw may take as one): before Pillow, which would
        raw = open_raw(data, signed=bool(kind))  # take a TIFF-based RAW's small thumbnail for the photo
        if raw is not None:
            try:
                image, meta = decode_raw(raw, data, max_pixels, min_side, max_side)
            finally:
                raw.close()
            return Decoded(image, meta)
        if kind:
            raise SkipError(SkipReason.TRUNCATED, "a camera RAW file that LibRaw could not open")
    try:
        im = Image.open(io.BytesIO(data))
    except UnidentifiedImageError as e:
        raise SkipError(SkipReason.NOT_IMAGE, "no known image format in its content") from e
    except Image.DecompressionBombError as e:
        raise SkipError(SkipReason.TOO_LARGE, str(e).split(".")[0]) from e
    except (OSError, SyntaxError, ValueError) as e:
        raise SkipError(SkipReason.TRUNCATED, str(e) or type(e).__name__) from e
    if im.format not in FORMATS:
        raise SkipError(SkipReason.UNSUPPORTED, f"{im.format} images are not indexed")
    width, height = im.size
    if width <= 0 or height <= 0:
        raise SkipError(SkipReason.TRUNCATED, "zero-sized image")
    if width * height > max_pixels:
        raise SkipError(SkipReason.TOO_LARGE, f"{width}x{height} is over the {max_pixels:,}-pixel limit")
    try:
        meta = read_meta(im)
        if im.format == "JPEG" and (min_side or max_side):
            # draft() decodes at 1/2, 1/4 or 1/8 scale, keeping both sides >= the requested size.
            scale = min(min(width, height) / min_side if min_side else 1e9,
                        max(width, height) / max_side if max_side else 1e9)
            if scale >= 2:
                im.draft("RGB", (max(1, round(width / scale)), max(1, round(height / scale))))
        im.load()
        rgb = _to_rgb(ImageOps.exif_transpose(im))
    except Image.DecompressionBombError as e:
        raise SkipError(SkipReason.TOO_LARGE, str(e).split(".")[0]) from e
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, TypeError) as e:
        raise SkipError(SkipReason.TRUNCATED, str(e) or type(e).__name__) from e
    if meta.orientation in (5, 6, 7, 8):
        width, height = height, width
    meta.width, meta.height = width, height
    if im.format in ("JPEG", "MPO"):
        meta.motion_offset = motion_clip_offset(data)
    if max_side and max(rgb.size) > max_side:
        rgb.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return Decoded(rgb, meta)


def _to_rgb(im: Image.Image) -> Image.Image:
    if im.mode == "RGB":
        return im
    if im.mode in ("RGBA", "LA", "PA") or (im.mode == "P" and "transparency" in im.info):
        rgba = im.convert("RGBA")
        canvas = Image.new("RGB", rgba.size, (255, 255, 255))
        canvas.paste(rgba, mask=rgba.getchannel("A"))
        return canvas
    if im.mode in ("I;16", "I;16B", "I;16L", "I"):
        im = im.point(lambda v: v / 256).convert("L")
    return im.convert("RGB")
