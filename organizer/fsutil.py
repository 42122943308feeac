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


def write_atomic(path: Path, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` whole or not at all: a temporary file beside it, synced, then renamed
    over it. A failure (a full disk) leaves the old file as it was and no temporary file behind."""
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise
