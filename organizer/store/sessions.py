"""Which processes have a library open. Each holds a lock on a file of its own in the library's ``sessions/``
folder while it has the library open; ``restore`` takes each lock it can (a process that ended without
closing leaves a file whose lock is free) and refuses while any is held, since the process holding it would
go on writing to the database that restore puts aside."""

from __future__ import annotations

import contextlib
import os
import uuid
from pathlib import Path

from filelock import FileLock, Timeout

FOLDER = "sessions"


class Session:
    """This process's hold on a library; :meth:`leave` when the library is closed."""

    def __init__(self, path: Path, lock: FileLock) -> None:
        self.path = path
        self._lock = lock

    def leave(self) -> None:
        with contextlib.suppress(OSError):
            self._lock.release(force=True)
            self.path.unlink(missing_ok=True)


def enter(library: Path) -> Session | None:
    """Say that this process has ``library`` open; None where that cannot be written (a full disk): restore
    then relies on the index lock alone."""
    folder = library / FOLDER
    path = folder / f"{os.getpid()}-{uuid.uuid4().hex[:8]}.lock"
    try:
        folder.mkdir(exist_ok=True)
        lock = FileLock(str(path))
        lock.acquire(timeout=0)
    except (OSError, Timeout):
        return None
    return Session(path, lock)


def others(library: Path) -> list[int]:
    """The processes (ids) that have ``library`` open now; files left by processes that ended are removed."""
    folder = library / FOLDER
    if not folder.is_dir():
        return []
    users = []
    for path in sorted(folder.glob("*.lock")):
        lock = FileLock(str(path))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            pid = path.name.split("-", 1)[0]
            users.append(int(pid) if pid.isdigit() else 0)
            continue
        except OSError:
            continue
        lock.release(force=True)
        with contextlib.suppress(OSError):
            path.unlink()
    return users
