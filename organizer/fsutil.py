"""Small file-system helpers shared by the core: durable writes and batching."""

from __future__ import annotations

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
