"""Reading a stored photo again in a later pass: decoded at the pass's size, checked against the hash it was
indexed with (a file replaced under the same name is no longer that photo), and cropped to a part's box."""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from PIL import Image

from organizer.media.decode import bounded, load
from organizer.media.scan import FileEntry
from organizer.media.video import frames_at, scene_times
from organizer.parts import Box


@dataclass(frozen=True, slots=True)
class Changed:
    """A file a later pass read is no longer the photo it was indexed as: its bytes changed (a picture saved
    over it under the same name). ``entry``: the file as it is now (None: gone since)."""

    entry: FileEntry | None

    @staticmethod
    def of(path: str) -> Changed:
        try:
            st = os.stat(path)
        except OSError:
            return Changed(None)
        return Changed(FileEntry(path, st.st_size, st.st_mtime_ns))


CHANGED = Changed(None)


@dataclass(frozen=True, slots=True)
class Scenes:
    """A video read again for its parts: the poster frame and up to two later scenes, each at its time (the
    poster's is None: its parts are the video's own, outlined on its picture)."""

    frames: list[tuple[float | None, Image.Image]]


def changed_entries(chunk: Sequence[tuple[Any, Any]]) -> list[FileEntry]:
    return [r.entry for _, r in chunk if isinstance(r, Changed) and r.entry is not None]


def reader(dec: Any, side: int, expect: dict[str, str], scenes: bool = False) -> Any:
    """Read (photo id, path) as an upright image of at most ``side`` pixels; None where it cannot be read (a
    pass records that as failed for its key, retried when the file is seen again); a :class:`Changed` where
    the file's bytes are no longer what was indexed (``expect``: path -> hash, Store.expected_hashes). With
    ``scenes``, a video is read as :class:`Scenes` (the parts pass looks for objects and text in three frames)."""

    def work(item: tuple[int, str]) -> Image.Image | Scenes | Changed | None:
        try:
            r = load(item[1], dec, max_side=side)
        except Exception:  # noqa: BLE001 - one odd file never ends a run
            return None
        if r.hash != expect.get(item[1], r.hash):
            return Changed.of(item[1])
        duration = r.decoded.meta.duration if r.decoded is not None else None
        if duration is not None and scenes:  # a video: objects and text in two later scenes too
            try:
                later = bounded(lambda: frames_at(item[1], scene_times(duration), side, like=r.image),
                                dec.native_decode_seconds)
            except Exception:  # noqa: BLE001 - the poster's parts are still worth storing
                later = []
            return Scenes([(None, r.image), *later])
        return r.image

    return work


def crop(im: Image.Image, box: Box) -> Image.Image:
    w, h = im.size
    x0, y0 = int(box[0] * w), int(box[1] * h)
    x1, y1 = max(x0 + 1, int(round(box[2] * w))), max(y0 + 1, int(round(box[3] * h)))
    return im.crop((x0, y0, x1, y1))
