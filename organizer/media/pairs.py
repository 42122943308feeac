"""Files of one shot: a RAW and the JPEG (or HEIC) the camera wrote beside it are one photo with two files.

They pair by place and name: the same folder, the same name but for the extension, in any case
(``DSC_0001.NEF`` with ``dsc_0001.jpg``). The JPEG is the photo that is shown, searched and analysed; the RAW is
kept as its file too, so forgetting or losing either leaves the photo with the other.
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
RAW_ROLE = "raw"


def is_raw_name(path: str) -> bool:
    return os.path.splitext(path)[1].lower() in RAW_EXTENSIONS


def raw_partners(raws: Iterable[str], others: Iterable[str]) -> dict[str, str]:
    """RAW path -> the path of the picture of the same shot among ``others``: same folder, same name but for the
    extension (any case); a JPEG before a HEIC where a shot has both."""
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
    for r in raws:
        folder, name = os.path.split(r)
        found = shown.get((folder, os.path.splitext(name)[0].lower()))
        if found is not None:
            out[r] = found[1]
    return out
