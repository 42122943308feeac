"""An MP4 writer for sample videos (the self-test, the tests, the screenshots): OpenCV's writer (mp4v), the
container then patched as cameras write it: a rotation in the track header, a creation time in the movie
header, GPS in Apple's ``©xyz`` box."""

from __future__ import annotations

import struct
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import numpy as np


def write_video(path: Path, seconds: float, frame: Callable[[float], np.ndarray], fps: int = 5,
                size: tuple[int, int] = (320, 240), rotation: int = 0, created: datetime | None = None,
                gps: tuple[float, float] | None = None) -> Path:
    """An MP4 of ``seconds`` whose frame at time t is ``frame(t)`` (RGB, ``size`` = (width, height)); ``rotation``
    (0 or 90) in the track header, ``created`` (UTC) in the movie header, ``gps`` in a ``©xyz`` box."""
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
    path.write_bytes(bytes(data))
    return path
