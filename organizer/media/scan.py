"""Walk folders for candidate files, by content later: every regular file is a candidate."""

from __future__ import annotations

import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # absolute, normalised
    size: int
    mtime_ns: int


def normalise(path: str | os.PathLike[str]) -> str:
    return os.path.normpath(os.path.abspath(os.fspath(path)))


def walk(roots: Iterable[str | os.PathLike[str]], exclude: Iterable[str] = ()) -> Iterator[FileEntry]:
    """Yield every regular file under ``roots`` (files given directly are yielded themselves).

    Hidden files and folders (a leading dot) are left out, and so are the ``exclude`` folders (the
    library itself). Symbolic links to files are followed; links to folders are not, so a loop of
    links cannot trap the walk. A folder that cannot be listed is silently passed over here; the
    caller reports roots that do not exist.
    """
    excluded = {normalise(e) for e in exclude}
    seen: set[str] = set()
    for root in roots:
        root_path = normalise(root)
        if os.path.isfile(root_path):
            entry = _entry(root_path)
            if entry and entry.path not in seen:
                seen.add(entry.path)
                yield entry
            continue
        stack = [root_path]
        while stack:
            folder = stack.pop()
            if folder in excluded:
                continue
            try:
                with os.scandir(folder) as it:
                    items = sorted(it, key=lambda e: e.name)
            except OSError:
                continue
            subfolders = []
            for item in items:
                if item.name.startswith("."):
                    continue
                try:
                    if item.is_dir(follow_symlinks=False):
                        subfolders.append(item.path)
                    elif item.is_file(follow_symlinks=True):
                        st = item.stat(follow_symlinks=True)
                        path = normalise(item.path)
                        if path not in seen:
                            seen.add(path)
                            yield FileEntry(path, st.st_size, st.st_mtime_ns)
                except OSError:
                    continue
            stack.extend(reversed(subfolders))


def _entry(path: str) -> FileEntry | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return FileEntry(path, st.st_size, st.st_mtime_ns)


def is_under(path: str, folder: str) -> bool:
    folder = normalise(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def folder_prefix(folder: str | Path) -> str:
    """The prefix that every path under ``folder`` starts with (for SQL LIKE/range queries)."""
    return normalise(folder).rstrip(os.sep) + os.sep
