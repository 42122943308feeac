"""A DNG writer for sample files (the self-test, the tests, the benchmarks): a Bayer mosaic LibRaw demosaics,
optionally with an embedded JPEG preview as cameras write it, an orientation, a date taken and GPS in its EXIF;
a little-endian TIFF written by hand (tifffile cannot write a JPEG-compressed preview without imagecodecs).
Only DNG can be made here; the other RAW formats are read by LibRaw as it reads them."""

from __future__ import annotations

import io
import struct
from pathlib import Path

import numpy as np
from PIL import Image

BYTE, ASCII, SHORT, LONG, RATIONAL, SRATIONAL = 1, 2, 3, 4, 5, 10
_SIZES = {BYTE: 1, ASCII: 1, SHORT: 2, LONG: 4, RATIONAL: 8, SRATIONAL: 8}
_FMT = {BYTE: "B", ASCII: "B", SHORT: "H", LONG: "I", RATIONAL: "I", SRATIONAL: "i"}


def bayer_of(rgb: np.ndarray, white: int = 4095) -> np.ndarray:
    """An RGGB mosaic (16-bit, up to ``white``) of an RGB picture (uint8), as a sensor would record it."""
    v = rgb.astype(np.float32) / 255.0 * white
    out = np.empty(rgb.shape[:2], np.uint16)
    out[0::2, 0::2] = v[0::2, 0::2, 0]
    out[0::2, 1::2] = v[0::2, 1::2, 1]
    out[1::2, 0::2] = v[1::2, 0::2, 1]
    out[1::2, 1::2] = v[1::2, 1::2, 2]
    return out


class _Tiff:
    def __init__(self) -> None:
        self.data = bytearray(b"II*\x00\x00\x00\x00\x00")

    def blob(self, b: bytes) -> int:
        if len(self.data) % 2:
            self.data += b"\x00"
        at = len(self.data)
        self.data += b
        return at

    def ifd(self, entries: list[tuple[int, int, object]], next_ifd: int = 0) -> tuple[int, int]:
        """Write an IFD (tag, type, values); returns its offset and where its next-IFD pointer is."""
        packed = []
        for tag, typ, values in sorted(entries, key=lambda e: e[0]):
            if typ == ASCII:
                raw = str(values).encode() + b"\x00"
                count = len(raw)
            else:
                vals = list(values) if isinstance(values, list | tuple) else [values]
                count = len(vals) // 2 if typ in (RATIONAL, SRATIONAL) else len(vals)
                raw = struct.pack("<" + _FMT[typ] * len(vals), *vals)
            field = raw.ljust(4, b"\x00") if len(raw) <= 4 else struct.pack("<I", self.blob(raw))
            packed.append(struct.pack("<HHI", tag, typ, count) + field)
        body = struct.pack("<H", len(packed)) + b"".join(packed)
        at = self.blob(body + struct.pack("<I", next_ifd))
        return at, at + len(body)


def write_dng(path: Path, rgb: np.ndarray, preview: np.ndarray | None = None, orientation: int = 1,
              taken: str | None = "2024:05:17 09:30:00", gps: tuple[float, float] | None = None,
              make: str = "Organizer", model: str = "Test Camera",
              crop: tuple[int, int, int, int] | None = None, lens: str | None = None) -> Path:
    """A DNG of ``rgb`` (uint8 H x W x 3, even sides) as an RGGB mosaic; ``preview`` (uint8 RGB) embedded as a
    JPEG in IFD0 as cameras do, the mosaic in a SubIFD; EXIF orientation, date taken and GPS as given; ``crop``
    (left, top, width, height of the mosaic) as its DefaultCrop, the part of the sensor the camera shows; ``lens``
    as the EXIF lens model."""
    t = _Tiff()
    mosaic = bayer_of(rgb)
    h, w = mosaic.shape
    raw_at = t.blob(mosaic.astype("<u2").tobytes())
    sub_entries: list[tuple[int, int, object]] = [
        (254, LONG, 0), (256, LONG, w), (257, LONG, h), (258, SHORT, 16), (259, SHORT, 1), (262, SHORT, 32803),
        (273, LONG, raw_at), (277, SHORT, 1), (278, LONG, h), (279, LONG, mosaic.nbytes),
        (33421, SHORT, (2, 2)), (33422, BYTE, (0, 1, 1, 2)), (50717, LONG, 4095),
    ]
    if crop is not None:
        sub_entries += [(50719, LONG, crop[:2]), (50720, LONG, crop[2:])]
    sub_at, _ = t.ifd(sub_entries)
    exif: list[tuple[int, int, object]] = []
    if taken:
        exif.append((36867, ASCII, taken))
    if lens:
        exif.append((42036, ASCII, lens))
    exif_at = t.ifd(exif)[0] if exif else None
    gps_at = None
    if gps is not None:
        def dms(x: float) -> tuple[int, ...]:
            x = abs(x)
            d, m = int(x), int((x - int(x)) * 60)
            s = round(((x - d) * 60 - m) * 60 * 1000)
            return (d, 1, m, 1, s, 1000)

        gps_at = t.ifd([(0, BYTE, (2, 3, 0, 0)), (1, ASCII, "N" if gps[0] >= 0 else "S"), (2, RATIONAL, dms(gps[0])),
                        (3, ASCII, "E" if gps[1] >= 0 else "W"), (4, RATIONAL, dms(gps[1]))])[0]
    identity = (10000, 10000, 0, 10000, 0, 10000, 0, 10000, 10000, 10000, 0, 10000, 0, 10000, 0, 10000, 10000, 10000)
    main: list[tuple[int, int, object]] = [
        (271, ASCII, make), (272, ASCII, model), (274, SHORT, orientation), (330, LONG, sub_at),
        (50706, BYTE, (1, 4, 0, 0)), (50707, BYTE, (1, 1, 0, 0)), (50708, ASCII, f"{make} {model}"),
        (50721, SRATIONAL, identity), (50728, RATIONAL, (1, 1, 1, 1, 1, 1)),
    ]
    if exif_at is not None:
        main.append((34665, LONG, exif_at))
    if gps_at is not None:
        main.append((34853, LONG, gps_at))
    if preview is not None:
        buf = io.BytesIO()
        Image.fromarray(preview).save(buf, "JPEG", quality=92)
        jpeg = buf.getvalue()
        ph, pw = preview.shape[:2]
        main += [(254, LONG, 1), (256, LONG, pw), (257, LONG, ph), (258, SHORT, (8, 8, 8)), (259, SHORT, 7),
                 (262, SHORT, 6), (273, LONG, t.blob(jpeg)), (277, SHORT, 3), (278, LONG, ph),
                 (279, LONG, len(jpeg))]
    else:  # a small uncompressed thumbnail (at most 160 px), as some converters write
        step = max(1, -(-max(rgb.shape[:2]) // 160))
        thumb = np.ascontiguousarray(rgb[::step, ::step])
        th, tw = thumb.shape[:2]
        main += [(254, LONG, 1), (256, LONG, tw), (257, LONG, th), (258, SHORT, (8, 8, 8)), (259, SHORT, 1),
                 (262, SHORT, 2), (273, LONG, t.blob(thumb.tobytes())), (277, SHORT, 3), (278, LONG, th),
                 (279, LONG, thumb.nbytes)]
    ifd0, _ = t.ifd(main)
    t.data[4:8] = struct.pack("<I", ifd0)
    path.write_bytes(bytes(t.data))
    return path
