"""Files of one shot are one item: a RAW and the JPEG (or HEIC) the camera wrote beside it; a still and its motion
clip (an iPhone's Live Photo: ``IMG_0001.HEIC`` with ``IMG_0001.MOV``).

They pair by place and name: the same folder, the same name but for the extension, in any case
(``DSC_0001.NEF`` with ``dsc_0001.jpg``). The still is the photo that is shown, searched and analysed; the RAW
or the clip is kept as its file too (never indexed again as a photo or a video of its own), so forgetting or
losing either leaves the photo with the other.
"""

from __future__ import annotations

import os
from collections.abc import Iterable

# What LibRaw reads, by the extensions cameras give them
RAW_EXTENSIONS = frozenset({
    ".dng", ".cr2", ".cr3", ".crw", ".nef", ".nrw", ".arw", ".srf", ".sr2", ".raf", ".orf", ".rw2", ".rwl",
    ".pef", ".srw", ".x3f", ".3fr", ".fff", ".erf", ".kdc", ".dcr", ".mrw", ".mos", ".iiq", ".mef", ".raw",
})
# What a camera or phone writes beside a RAW as the picture to show
SHOWN_EXTENSIONS = (".jpg", ".jpeg", ".heic", ".heif", ".hif")
# A still's motion clip, by the extensions phones give them
MOTION_EXTENSIONS = frozenset({".mov", ".mp4"})
RAW_ROLE = "raw"
MOTION_ROLE = "motion"


def role_of(path: str) -> str | None:
    """The role a file would have beside a still of the same name: "raw", "motion", or None."""
    ext = os.path.splitext(path)[1].lower()
    return RAW_ROLE if ext in RAW_EXTENSIONS else MOTION_ROLE if ext in MOTION_EXTENSIONS else None


def partners(files: Iterable[str], others: Iterable[str]) -> dict[str, str]:
    """Path of a RAW or motion clip -> the path of the still of the same shot among ``others``: same folder, same
    name but for the extension (any case); a JPEG before a HEIC where a shot has both."""
    shown: dict[tuple[str, str], tuple[int, str]] = {}
    for p in others:
        folder, name = os.path.split(p)
        stem, ext = os.path.splitext(name)
        ext = ext.lower()
        if ext in SHOWN_EXTENSIONS:
            key, rank = (folder, stem.lower()), SHOWN_EXTENSIONS.index(ext)
            if key not in shown or (rank, p) < shown[key]:
                shown[key] = (rank, p)
    out = {}
    for r in files:
        folder, name = os.path.split(r)
        found = shown.get((folder, os.path.splitext(name)[0].lower()))
        if found is not None:
            out[r] = found[1]
    return out
