"""Camera RAW files (DNG, CR2, CR3, NEF, ARW, RAF, ORF, RW2, PEF and the rest LibRaw reads) through rawpy.

A RAW is recognised by its content before Pillow sees it (Pillow would open a TIFF-based RAW's small
thumbnail as if it were the photo). Decoding prefers the JPEG preview the camera embedded, where it is
large enough for the caller; else LibRaw demosaics at half size (or full size, for the viewer's own
pixels) with the camera's white balance, so the same file always gives the same picture. Orientation is
applied once: the preview's own EXIF where it has one, else LibRaw's flip of the RAW. Camera, lens, date
taken and GPS come from the RAW's metadata through exifread (rawpy exposes none).
"""

from __future__ import annotations

import io
from typing import Any

from PIL import Image, ImageOps

from organizer.media.exif import PhotoMeta, text_date

# LibRaw's flip (of the raw data) as an EXIF orientation
_FLIP_TO_ORIENTATION = {0: 1, 3: 3, 5: 8, 6: 6}
_TIFF = (b"II*\x00", b"MM\x00*")


def looks_raw(data: bytes) -> bool | None:
    """Whether ``data`` is a camera RAW by its first bytes: True (a RAW-only signature), None (a TIFF, which many
    RAWs are: LibRaw decides), False (neither)."""
    head = data[:16]
    if head.startswith((b"FUJIFILMCCD-RAW", b"IIRO", b"IIRS", b"MMOR", b"IIU\x00")):  # RAF, ORF, RW2
        return True
    if head[4:12] in (b"ftypcrx ",):  # CR3 (an ISO media file of Canon's brand)
        return True
    if head.startswith(_TIFF):
        return True if head[8:10] == b"CR" else None  # CR2; DNG, NEF, ARW, PEF... are plain TIFFs
    return False


def _camera_tiff(source: bytes | str) -> bool:
    """Whether a TIFF's tags name a camera or a DNG version: LibRaw would take a scientific 16-bit TIFF for a
    sensor's mosaic, so a TIFF is a RAW only then."""
    meta = raw_meta(source)
    return meta.format == "DNG" or meta.camera_make is not None


def is_raw_file(path: str, head: bytes) -> bool:
    """Whether the file at ``path`` (whose first bytes are ``head``) is a camera RAW, from its signature and, for
    a TIFF, its tags (read from the file's header, not the whole file)."""
    kind = looks_raw(head)
    return kind is True or (kind is None and _camera_tiff(path))


def open_raw(source: bytes | str, signed: bool = True) -> Any | None:
    """LibRaw's handle on a RAW's bytes or on its file (a path: LibRaw then reads its headers and the parts it
    decodes, never the whole file); close it. None when it is not a RAW (a TIFF, ``signed`` False, whose tags
    name no camera) or rawpy is not installed."""
    if not signed and not _camera_tiff(source):
        return None
    try:
        import rawpy
    except ImportError:  # pragma: no cover - rawpy is a dependency
        return None
    try:  # headers only: the mosaic is unpacked when demosaiced
        return rawpy.imread(source if isinstance(source, str) else io.BytesIO(source))
    except (rawpy.LibRawError, ValueError, OSError):
        return None


def decode_raw_file(path: str, max_pixels: int, min_side: int | None,
                    max_side: int | None) -> tuple[Image.Image, PhotoMeta]:
    """:func:`decode_raw` of the RAW file at ``path``, read by LibRaw from the file."""
    raw = open_raw(path)
    if raw is None:
        from organizer.media.decode import SkipError, SkipReason

        raise SkipError(SkipReason.TRUNCATED, "a camera RAW file that LibRaw could not open")
    try:
        return decode_raw(raw, path, max_pixels, min_side, max_side)
    finally:
        raw.close()


def decode_raw(raw: Any, source: bytes | str, max_pixels: int, min_side: int | None,
               max_side: int | None) -> tuple[Image.Image, PhotoMeta]:
    """An upright RGB picture of the RAW ``raw`` (from :func:`open_raw`) and its metadata. The embedded preview
    serves where it is at least ``min_side`` on its short side and as long as what a half-size demosaic would
    give (up to ``max_side``); else LibRaw demosaics, at half size when that is enough. With neither size, the
    viewer wants the photo's own pixels: a full demosaic. Every picture of one RAW is framed alike (see
    :func:`_frame`), so a box found on the preview outlines the same thing on a demosaic. LibRaw's errors on a
    truncated or corrupt file are raised (the caller makes them a skip)."""
    flip, width, height = _upright(raw.sizes)
    if width * height > max_pixels:
        from organizer.media.decode import SkipError, SkipReason

        raise SkipError(SkipReason.TOO_LARGE, f"{width}x{height} is over the {max_pixels:,}-pixel limit")
    meta = raw_meta(source)
    meta.orientation = _FLIP_TO_ORIENTATION.get(flip, 1)
    preview, frame, (meta.width, meta.height) = _framing(raw)
    image = None
    if (min_side or max_side) and preview is not None:
        long = max(meta.width, meta.height)
        want_long = min(max_side, long // 2) if max_side else 0
        image = _preview(preview, min_side or 0, want_long, max_side or 0)
    if image is None:
        # half size serves a caller who asked for sizes, unless its short side falls under min_side (a long side
        # is never asked beyond what half size gives: max_side only caps it)
        half = bool(min_side or max_side) and min(meta.width, meta.height) // 2 >= (min_side or 0)
        image = Image.fromarray(raw.postprocess(half_size=half, use_camera_wb=True, output_bps=8))  # upright
        if frame != (0.0, 0.0, 1.0, 1.0):
            w, h = image.size
            image = image.crop((round(frame[0] * w), round(frame[1] * h), round(frame[2] * w), round(frame[3] * h)))
    if max_side and max(image.size) > max_side:
        image.thumbnail((max_side, max_side), Image.Resampling.BILINEAR, reducing_gap=2.0)
    return image, meta


PREVIEW_SIDE = 224  # an embedded JPEG at least this on its short side is a preview of the photo, not a thumbnail


def framed_size(path: str) -> tuple[int, int] | None:
    """The upright size of the pictures the RAW at ``path`` gives (see :func:`_frame`), from its headers and its
    preview's header, nothing decoded; None when LibRaw cannot open it."""
    raw = open_raw(path)
    if raw is None:
        return None
    try:
        return _framing(raw)[2]
    finally:
        raw.close()


def _framing(raw: Any) -> tuple[_Embedded | None, tuple[float, float, float, float], tuple[int, int]]:
    """A RAW's embedded preview, the part of LibRaw's upright picture the photo shows (:func:`_frame`) and that
    part's size at full resolution."""
    sizes = raw.sizes
    flip, width, height = _upright(sizes)
    preview = _embedded(raw, _FLIP_TO_ORIENTATION.get(flip, 1))
    frame = _frame(sizes, flip, preview.size if preview is not None else None)
    return preview, frame, (max(1, round((frame[2] - frame[0]) * width)), max(1, round((frame[3] - frame[1]) * height)))


def _upright(sizes: Any) -> tuple[int, int, int]:
    """LibRaw's flip of a RAW and the width and height of its picture once LibRaw has turned it upright."""
    flip, width, height = int(sizes.flip), int(sizes.width), int(sizes.height)
    return (flip, height, width) if flip in (5, 6) else (flip, width, height)


def _frame(sizes: Any, flip: int, preview: tuple[int, int] | None) -> tuple[float, float, float, float]:
    """The part of LibRaw's upright picture that the photo shows, (left, top, right, bottom) as fractions: the crop
    the camera applies (DNG's DefaultCrop, makers' crops: LibRaw's first inset crop), then, where the camera's
    preview (upright ``preview`` size) has another shape (a 16:9 or square picture style), its shape, centred.
    Previews frame the picture so; a demosaic framed alike keeps boxes found on either in place."""
    w, h = max(1, int(sizes.width)), max(1, int(sizes.height))
    x0, y0, x1, y1 = 0.0, 0.0, 1.0, 1.0
    cw, ch = int(getattr(sizes, "crop_width", 0) or 0), int(getattr(sizes, "crop_height", 0) or 0)
    if cw > 0 and ch > 0:
        left, top = int(sizes.crop_left_margin), int(sizes.crop_top_margin)
        x0, y0 = min(max(left / w, 0.0), 1.0), min(max(top / h, 0.0), 1.0)
        x1, y1 = min((left + cw) / w, 1.0), min((top + ch) / h, 1.0)
        if x1 - x0 < 0.25 or y1 - y0 < 0.25:  # not a crop a camera applies: left alone
            x0, y0, x1, y1 = 0.0, 0.0, 1.0, 1.0
    # turned upright as LibRaw turns its picture (flip 3: 180 degrees; 6: clockwise; 5: counter-clockwise)
    if flip == 3:
        x0, y0, x1, y1 = 1 - x1, 1 - y1, 1 - x0, 1 - y0
    elif flip == 6:
        x0, y0, x1, y1 = 1 - y1, x0, 1 - y0, x1
    elif flip == 5:
        x0, y0, x1, y1 = y0, 1 - x1, y1, 1 - x0
    if flip in (5, 6):
        w, h = h, w
    if preview is not None and min(preview) >= PREVIEW_SIDE:
        fw, fh = (x1 - x0) * w, (y1 - y0) * h
        shape = preview[0] / preview[1]
        if shape > fw / fh * 1.01:  # wider: fewer rows
            cut = (fh - fw / shape) / 2 / h
            y0, y1 = y0 + cut, y1 - cut
        elif shape < fw / fh / 1.01:  # taller: fewer columns
            cut = (fw - fh * shape) / 2 / w
            x0, x1 = x0 + cut, x1 - cut
    return (x0, y0, x1, y1)


_TURN = {3: Image.Transpose.ROTATE_180, 6: Image.Transpose.ROTATE_270, 8: Image.Transpose.ROTATE_90}


class _Embedded:
    """The camera's embedded preview, opened (a JPEG is not decoded yet), and how to stand it up: ``turn`` > 1, its
    own EXIF orientation; < 0, the RAW's orientation, negated; 1, upright already."""

    def __init__(self, im: Image.Image, turn: int) -> None:
        self.im, self.turn = im, turn

    @property
    def size(self) -> tuple[int, int]:
        """Its size once upright."""
        w, h = self.im.size
        return (h, w) if abs(self.turn) in (5, 6, 7, 8) else (w, h)


def _embedded(raw: Any, orientation: int) -> _Embedded | None:
    """The camera's embedded preview (see :class:`_Embedded`), or None."""
    import rawpy

    try:
        thumb = raw.extract_thumb()
        if thumb.format == rawpy.ThumbFormat.JPEG:
            im: Image.Image = Image.open(io.BytesIO(thumb.data))
            own = im.getexif().get(0x0112, 1)
            if own not in (None, 1):  # the preview says how it stands: trust it, once
                return _Embedded(im, int(own))
        else:
            im = Image.fromarray(thumb.data)
    except (rawpy.LibRawError, OSError, ValueError, SyntaxError):
        return None
    return _Embedded(im, -orientation if orientation in _TURN else 1)


def _preview(e: _Embedded, want_short: int, want_long: int, max_side: int) -> Image.Image | None:
    """The preview ``e`` decoded upright, when it is at least ``want_short`` and ``want_long``; None otherwise. It
    is decoded no smaller than ``min_side`` (``want_short``) and ``max_side`` ask."""
    im = e.im
    try:
        short, long = min(im.size), max(im.size)
        if short < want_short or long < want_long:
            return None
        # draft(): a JPEG decoded at 1/2, 1/4 or 1/8 scale where that still gives the sizes asked for
        scale = min(short / want_short if want_short else 1e9, long / max_side if max_side else 1e9)
        if scale >= 2 and im.format == "JPEG":
            im.draft("RGB", (max(1, round(im.width / scale)), max(1, round(im.height / scale))))
        if e.turn > 1:
            return ImageOps.exif_transpose(im).convert("RGB")
        im = im.convert("RGB")
    except (OSError, ValueError, SyntaxError):
        return None
    return im.transpose(_TURN[-e.turn]) if e.turn < 0 else im


def raw_meta(source: bytes | str) -> PhotoMeta:
    """Camera, date taken and GPS of a RAW's bytes or file, through exifread (TIFF-based RAWs, CR3, RAF...); as
    much as it finds, nothing where it finds nothing."""
    meta = PhotoMeta(format="RAW")
    try:
        import exifread

        if isinstance(source, str):
            with open(source, "rb") as f:
                tags = exifread.process_file(f, details=False, extract_thumbnail=False)
        else:
            tags = exifread.process_file(io.BytesIO(source), details=False, extract_thumbnail=False)
    except Exception:  # noqa: BLE001 - broken metadata must not cost the photo
        return meta
    if "Image DNGVersion" in tags or "Image Tag 0xC612" in tags:  # DNGVersion, by name or by number
        meta.format = "DNG"
    meta.camera_make = _tag(tags, "Image Make")
    meta.camera_model = _tag(tags, "Image Model")
    meta.lens = _tag(tags, "EXIF LensModel")
    meta.taken_at = text_date(_tag(tags, "EXIF DateTimeOriginal") or _tag(tags, "Image DateTime"))
    lat = _degrees(tags.get("GPS GPSLatitude"), _tag(tags, "GPS GPSLatitudeRef"))
    lon = _degrees(tags.get("GPS GPSLongitude"), _tag(tags, "GPS GPSLongitudeRef"))
    if lat is not None and lon is not None and -90 <= lat <= 90 and -180 <= lon <= 180:
        meta.gps_lat, meta.gps_lon = lat, lon
    return meta


def _tag(tags: dict[str, Any], key: str) -> str | None:
    v = tags.get(key)
    text = str(v.printable if hasattr(v, "printable") else v).strip("\x00 ").strip() if v is not None else ""
    return text or None


def _degrees(tag: Any, ref: str | None) -> float | None:
    try:
        d, m, s = (float(x.num) / float(x.den) for x in tag.values)
    except (AttributeError, TypeError, ValueError, ZeroDivisionError):
        return None
    deg = d + m / 60 + s / 3600
    return -deg if ref in ("S", "W") else deg


