"""The one recipe for the library's lock files: held for a block, refused with a :class:`LibraryError` that says
why (another organizer holds it; the library is read-only; the folder cannot take a lock file)."""

from __future__ import annotations

import errno
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from filelock import FileLock, Timeout

from organizer.errors import LibraryError


@contextmanager
def held(path: Path, timeout: float, busy: str) -> Iterator[None]:
    """Hold the lock file at ``path`` for the block, waiting up to ``timeout`` seconds for another process to let
    it go; ``busy`` is the message when it does not (kind "busy")."""
    lock = FileLock(str(path))
    try:
        lock.acquire(timeout=timeout)
    except Timeout as e:
        raise LibraryError(busy, kind="busy") from e
    except OSError as e:
        if e.errno == errno.EROFS:
            raise LibraryError(f"The library ({path.parent}) is read-only: nothing can be changed in it.",
                               kind="read-only") from e
        raise LibraryError(f"Cannot write a lock file in {path.parent}: {e.strerror or e}.", kind="folder") from e
    try:
        yield
    finally:
        lock.release()
