"""An MP4 writer for sample videos (the self-test, the tests, the screenshots): OpenCV's writer (mp4v), the
container then patched as cameras write it: a rotation in the track header, a creation time in the movie
header, GPS in Apple's ``©xyz`` box, the colour coding (an HDR phone's PQ or HLG) in a ``colr`` box."""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np


def write_video(path: Path, seconds: float, frame: Callable[[float], np.ndarray], fps: int = 5,
                size: tuple[int, int] = (320, 240), rotation: int = 0, created: datetime | None = None,
                gps: tuple[float, float] | None = None, colour: tuple[int, int, int] | None = None,
                content_id: str | None = None) -> Path:
    """An MP4 of ``seconds`` whose frame at time t is ``frame(t)`` (RGB, ``size`` = (width, height)); ``rotation``
    (0 or 90) in the track header, ``created`` (UTC) in the movie header, ``gps`` in a ``©xyz`` box, ``colour``
    (primaries, transfer, matrix: ITU-T H.273 numbers) in the sample entry's ``colr`` box, ``content_id`` (a Live
    Photo's, shared with its still) in QuickTime metadata."""
    import cv2

    w, h = size
    out = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"mp4v"), fps, (w, h))
    for i in range(int(seconds * fps)):
        out.write(np.ascontiguousarray(frame(i / fps)[..., ::-1]))
    out.release()
    data = bytearray(path.read_bytes())
    if rotation:
        at = data.find(b"tkhd")
        matrix = at + 4 + 4 + 20 + 16  # version 0: after flags, times, track id, duration; then reserved, layer...
        struct.pack_into(">9i", data, matrix, 0, 65536, 0, -65536, 0, 0, 0, 0, 1 << 30)
    if created is not None:
        at = data.find(b"mvhd")
        since_1904 = int((created - datetime(1904, 1, 1, tzinfo=UTC)).total_seconds())
        struct.pack_into(">II", data, at + 8, since_1904, since_1904)
    if gps is not None:
        text = f"{gps[0]:+08.4f}{gps[1]:+09.4f}/".encode()
        box = struct.pack(">I4s", 8 + 4 + len(text), b"\xa9xyz") + struct.pack(">HH", len(text), 0x15c7) + text
        moov, udta = data.find(b"moov") - 4, data.rfind(b"udta") - 4
        assert udta > moov and udta + struct.unpack(">I", data[udta:udta + 4])[0] == len(data), "udta last in moov"
        for at in (moov, udta):
            struct.pack_into(">I", data, at, struct.unpack(">I", data[at:at + 4])[0] + len(box))
        data += box
    if content_id is not None:  # a QuickTime ``meta`` box (handler, keys, items) at the end of the movie box
        key = b"com.apple.quicktime.content.identifier"
        value = content_id.encode()
        hdlr = struct.pack(">I4s4s4s", 33, b"hdlr", b"\0" * 4, b"\0" * 4) + b"mdta" + b"\0" * 13
        keys = struct.pack(">I4sII", 16 + 8 + len(key), b"keys", 0, 1) + struct.pack(">I4s", 8 + len(key), b"mdta") + key
        item = struct.pack(">I4sII", 16 + len(value), b"data", 1, 0) + value
        ilst = struct.pack(">I4s", 16 + len(item), b"ilst") + struct.pack(">II", 8 + len(item), 1) + item
        meta = struct.pack(">I4s", 8 + len(hdlr) + len(keys) + len(ilst), b"meta") + hdlr + keys + ilst
        moov = data.find(b"moov") - 4
        assert moov + struct.unpack(">I", data[moov:moov + 4])[0] == len(data), "the movie box last"
        struct.pack_into(">I", data, moov, struct.unpack(">I", data[moov:moov + 4])[0] + len(meta))
        data += meta
    if colour is not None:
        data = _with_colour(data, colour)
    path.write_bytes(bytes(data))
    return path


def _with_colour(data: bytearray, colour: tuple[int, int, int]) -> bytearray:
    """``data`` with an ``nclx`` colour box at the end of its first track's sample entry; the boxes around it grow
    by its size (the movie box is after the media data, so no chunk offset moves)."""
    box = struct.pack(">I4s4sHHHB", 19, b"colr", b"nclx", *colour, 0)
    at, end, around = 0, len(data), []
    for name in (b"moov", b"trak", b"mdia", b"minf", b"stbl", b"stsd"):
        while at + 8 <= end and data[at + 4:at + 8] != name:
            at += struct.unpack(">I", data[at:at + 4])[0]
        assert at + 8 <= end, f"no {name!r} box"
        around.append(at)
        end = at + struct.unpack(">I", data[at:at + 4])[0]
        at += 8
    assert data.find(b"mdat") < around[0], "the movie box after the media data"
    entry = around[-1] + 16  # after the sample description's version, flags and entry count
    around.append(entry)
    insert = entry + struct.unpack(">I", data[entry:entry + 4])[0]
    for at in around:
        struct.pack_into(">I", data, at, struct.unpack(">I", data[at:at + 4])[0] + len(box))
    return data[:insert] + box + data[insert:]
