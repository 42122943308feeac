"""Files of one shot are one item: a RAW and the JPEG (or HEIC) the camera wrote beside it; a still and its motion
clip (an iPhone's Live Photo: ``IMG_0001.HEIC`` with ``IMG_0001.MOV``).

They pair by place and name: the same folder, the same name but for the extension, in any case
(``DSC_0001.NEF`` with ``dsc_0001.jpg``). A clip left without a still of its name (a Live Photo exported or
copied apart: ``IMG_0001.JPG`` with ``IMG_0001 (2).MOV``) pairs by the content identifier an iPhone writes into
both, with a still in its folder. The still is the photo that is shown, searched and analysed; the RAW
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


def by_content_id(clips: Iterable[str], others: Iterable[str], taken: Iterable[str] = ()) -> dict[str, str]:
    """Path of a motion clip -> the path of its still among ``others`` in the same folder, by Apple's content
    identifier (the clip's QuickTime metadata, the still's maker note); stills in ``taken`` (paired already) are
    left out. A still's metadata is read only in folders where a clip has an identifier."""
    from organizer.media.exif import apple_content_id
    from organizer.media.video import content_id

    ids = {c: i for c in clips if (i := content_id(c))}
    folders = {os.path.dirname(c) for c in ids}
    if not ids:
        return {}
    taken = set(taken)
    stills: dict[tuple[str, str], str] = {}
    for p in sorted(others):
        folder = os.path.dirname(p)
        if folder in folders and p not in taken and os.path.splitext(p)[1].lower() in SHOWN_EXTENSIONS:
            found = apple_content_id(p)
            if found:
                stills.setdefault((folder, found), p)
    return {c: stills[key] for c, i in ids.items() if (key := (os.path.dirname(c), i)) in stills}
