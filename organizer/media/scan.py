"""Walk folders for candidate files, by content later: every regular file is a candidate."""

from __future__ import annotations

import errno
import os
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # absolute, normalised
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """Something the walk could not look at: a folder it could not list, or a file it could not stat."""

    path: str
    what: str  # "folder" or "file"
    detail: str


def normalise(path: str | os.PathLike[str]) -> str:
    return os.path.normpath(os.path.abspath(os.fspath(path)))


def resolve(path: str | os.PathLike[str]) -> str:
    """A root as the library stores it: absolute, with symbolic links resolved, so that a folder reached
    through a link and directly is one folder."""
    return os.path.normpath(os.path.realpath(os.path.abspath(os.fspath(path))))


def display(path: str) -> str:
    """A path (or any text holding one) as a person sees it: bytes that are not UTF-8 shown as U+FFFD."""
    try:
        path.encode("utf-8")
        return path
    except UnicodeEncodeError:
        return os.fsencode(path).decode("utf-8", "replace")


def walk(roots: Iterable[str | os.PathLike[str]], exclude: Iterable[str] = (),
         on_problem: Callable[[ScanProblem], None] | None = None) -> Iterator[FileEntry]:
    """Yield every regular file under ``roots`` (files given directly are yielded themselves).

    Hidden files and folders (a leading dot) are left out, and so are the ``exclude`` folders (the
    library itself). Symbolic links to files and to folders are followed, each real folder once, so
    a loop of links cannot trap the walk. A folder that cannot be listed and a file that cannot be
    looked at (a path over the system's length limit, an I/O error) go to ``on_problem``.
    """
    excluded = {normalise(e) for e in exclude}
    seen: set[str] = set()
    visited: set[tuple[int, int]] = set()

    def problem(path: str, what: str, e: OSError) -> None:
        if on_problem is not None:
            on_problem(ScanProblem(path, what, _describe(e)))

    for root in roots:
        root_path = normalise(root)
        if os.path.isfile(root_path):
            try:
                st = os.stat(root_path)
            except OSError as e:
                problem(root_path, "file", e)
                continue
            if root_path not in seen:
                seen.add(root_path)
                yield FileEntry(root_path, st.st_size, st.st_mtime_ns)
            continue
        stack = [root_path]
        while stack:
            folder = stack.pop()
            if folder in excluded:
                continue
            try:
                st = os.stat(folder)
                if (st.st_dev, st.st_ino) in visited:
                    continue  # a link back to a folder already walked
                visited.add((st.st_dev, st.st_ino))
                with os.scandir(folder) as it:
                    items = sorted(it, key=lambda e: e.name)
            except OSError as e:
                problem(folder, "folder", e)
                continue
            subfolders = []
            for item in items:
                if item.name.startswith("."):
                    continue
                try:
                    if item.is_dir(follow_symlinks=True):
                        subfolders.append(item.path)
                    elif item.is_file(follow_symlinks=True):
                        st = item.stat(follow_symlinks=True)
                        path = normalise(item.path)
                        if path not in seen:
                            seen.add(path)
                            yield FileEntry(path, st.st_size, st.st_mtime_ns)
                    elif item.is_symlink() and not os.path.exists(item.path):
                        continue  # a dangling link: nothing to index
                except OSError as e:
                    problem(normalise(item.path), "file", e)
            stack.extend(reversed(subfolders))


def _describe(e: OSError) -> str:
    if e.errno == errno.ENAMETOOLONG:
        return "the path is longer than the system allows"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return e.strerror or str(e)


def is_under(path: str, folder: str) -> bool:
    folder = normalise(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)


def folder_prefix(folder: str | Path) -> str:
    """The prefix that every path under ``folder`` starts with (for SQL LIKE/range queries)."""
    return normalise(folder).rstrip(os.sep) + os.sep
