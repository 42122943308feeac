"""Files an upgrade listed to be read again once (schema 8): RAWs and videos fingerprinted with BLAKE2b before
streamed files took BLAKE3 are hashed again, so later passes, moves and copies recognise them (a RAW's size is
taken again too, as this version frames it); RAWs an organizer
before schema 7 read as their small TIFF thumbnail are indexed again as the RAWs they are (their labels follow
the file). A file that is not there now keeps its listing until a scan finds it."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Sequence

from organizer.media.decode import SkipError, hash_file, peek
from organizer.media.lookahead import bounded_map
from organizer.media.raw import framed_size, is_raw_file
from organizer.media.scan import FileEntry
from organizer.media.video import HEAD_BYTES
from organizer.progress import Event, Meter
from organizer.settings import Settings
from organizer.store.db import Store

HASH, REREAD = "hash", "reread"


def rehash(store: Store, settings: Settings, due: dict[str, str], found: dict[str, FileEntry],
           entries: list[FileEntry]) -> Iterator[Event]:
    """Hash again the listed files this scan ``found`` unchanged; add those to read again to ``entries`` (the
    files the scan indexes); files that changed are in ``entries`` already. Their listing is forgotten once
    stored (:func:`forget_reread` for files read again, after the scan has indexed them)."""
    changed = {e.path for e in entries}
    store.forget_rehash([p for p in found if p in changed])
    entries.extend(e for p, e in found.items() if due[p] == REREAD and p not in changed)
    todo = [e for p, e in found.items() if due[p] == HASH and p not in changed]
    if not todo:
        return
    dec = settings.decode
    meter = Meter("rehash", len(todo))

    def work(e: FileEntry) -> tuple[str, tuple[int, int] | None] | None:
        try:
            h = hash_file(e.path, dec.max_video_bytes, dec.read_stall_seconds)[0]
            # a RAW's size as this version frames it (the crop its camera applies; see media.raw)
            return h, framed_size(e.path) if is_raw_file(e.path, peek(e.path, HEAD_BYTES)) else None
        except SkipError:
            return None  # unreadable now: listed until a scan can read it

    done: list[tuple[str, str, tuple[int, int] | None]] = []
    for e, r in bounded_map(work, todo, settings.embed.workers, ahead=4):
        if r is not None:
            done.append((e.path, *r))
        if len(done) >= 64:
            store.rehashed(done)
            done = []
        yield meter.step(1, e.path)
    store.rehashed(done)


def unchanged_elsewhere(store: Store, paths: Sequence[str]) -> dict[str, FileEntry]:
    """The listed ``paths`` outside the folders a scan walked that are there, unchanged since they were indexed."""
    if not paths:
        return {}
    known = store.known_files(paths)
    out = {}
    for p in paths:
        try:
            st = os.stat(p)
        except (OSError, ValueError):
            continue
        k = known.get(p)
        if k is not None and stat.S_ISREG(st.st_mode) and (k.size, k.mtime_ns) == (st.st_size, st.st_mtime_ns):
            out[p] = FileEntry(p, st.st_size, st.st_mtime_ns)
    return out


def forget_reread(store: Store, due: dict[str, str], found: dict[str, FileEntry]) -> None:
    store.forget_rehash([p for p in found if due[p] == REREAD])
