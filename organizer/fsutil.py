"""Small file-system helpers shared by the core: durable writes and batching."""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TypeVar

T = TypeVar("T")


def fsync(path: Path) -> None:
    """Flush a file, or a folder's entries (POSIX), to the disk; quietly nothing where that is impossible."""
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def chunked(items: Iterable[T], n: int) -> Iterator[list[T]]:
    """Lists of at most ``n`` items, in order (SQL IN clauses, model batches)."""
    chunk: list[T] = []
    for x in items:
        chunk.append(x)
        if len(chunk) >= n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextlib.contextmanager
def replacing(path: Path) -> Iterator[Path]:
    """Write ``path`` whole or not at all: yields a temporary path beside it for the caller (or a library) to
    write; then it is synced and renamed over ``path``, and the folder's entry synced. A failure (a full disk, a
    killed export) leaves the old file as it was and no temporary file behind. The one recipe for durable
    writes: every file the app writes in place goes through here or :func:`write_atomic`."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        yield tmp
        fsync(tmp)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
    fsync(path.parent)


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all (see :func:`replacing`)."""
    with replacing(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
