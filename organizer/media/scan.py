"""Walk folders for candidate files, by content later: every regular file is a candidate."""

from __future__ import annotations

import contextlib
import errno
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

from organizer.paths import is_under, normalise, resolve

NOT_PHOTOS = "not an image"  # the skip reason of a file that is never read (decode.SkipReason.NOT_IMAGE)
# Files that belong to a photo beside them (edits, Apple's adjustments, a camera's thumbnail of a clip): never
# photos of their own, and never reported as skipped files.
SIDECARS = frozenset({".xmp", ".aae", ".thm"})


@dataclass(frozen=True, slots=True)
class FileEntry:
    path: str  # absolute, normalised
    size: int
    mtime_ns: int


@dataclass(frozen=True, slots=True)
class ScanProblem:
    """Something the walk could not look at: a folder it could not list, or a file it could not stat."""

    path: str
    what: str  # "folder", "file" or "link" (a link not followed)
    detail: str
    reason: str | None = None  # the skip reason to record for a file (None: unreadable, retried at every scan)


# Pseudo file systems: their "files" are the kernel's (a read of /proc/kmsg blocks for good, /dev/zero never
# ends) and hold no photos. Never walked into, through a link or given as a root.
SYSTEM_FOLDERS = ("/proc", "/sys", "/dev") if os.name == "posix" else ()
LINK_POLICIES = ("safe", "all", "none")


def _system_devices() -> frozenset[int]:
    """The devices of /proc, /sys and /dev where each is a file system of its own (a bind mount of one elsewhere
    is on the same device); never the device of "/" itself."""
    devs = set()
    with contextlib.suppress(OSError):
        top = os.stat("/").st_dev if SYSTEM_FOLDERS else None
        for f in SYSTEM_FOLDERS:
            if os.path.ismount(f):
                devs.add(os.stat(f).st_dev)
        devs.discard(top)
    return frozenset(devs)


def is_system(path: str, st: os.stat_result | None = None, devices: frozenset[int] | None = None) -> bool:
    """Whether ``path`` (absolute, links resolved) is in a pseudo file system (/proc, /sys, /dev), by its name
    or by the device it is on (``st``: its stat, where known)."""
    if any(path == f or path.startswith(f + os.sep) for f in SYSTEM_FOLDERS):
        return True
    return st is not None and st.st_dev in (devices if devices is not None else _system_devices())


def kind_of(mode: int) -> str:
    """What a file that is neither a regular file nor a folder is, in words."""
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a regular file"


def walk(roots: Iterable[str | os.PathLike[str]], exclude: Iterable[str] = (),
         on_problem: Callable[[ScanProblem], None] | None = None, links: str = "safe") -> Iterator[FileEntry]:
    """Yield every regular file under ``roots`` (files given directly are yielded themselves).

    Hidden files and folders (a leading dot) and sidecars (:data:`SIDECARS`) are left out, and so are the
    ``exclude`` folders (the
    library itself) and the system's pseudo file systems (/proc, /sys, /dev). Symbolic links (``links``):
    "safe" follows links to files and to folders, except a link to a folder that holds a root (a link to
    "/" or to the home folder would walk the whole disk); "all" follows every link; "none" follows none.
    Each real folder is walked once, so a loop of links cannot trap the walk. What the walk cannot or will
    not look at goes to ``on_problem``: a folder it could not list ("folder"), a file it could not stat or
    that is not a regular file ("file"), a dangling link ("file"), a link not followed ("link").
    """
    if links not in LINK_POLICIES:
        raise ValueError(f"links must be one of {LINK_POLICIES}")
    excluded = {normalise(e) for e in exclude}
    seen: set[str] = set()
    visited: set[tuple[int, int]] = set()
    devices = _system_devices()
    given = [normalise(r) for r in roots]
    real_roots = [resolve(r) for r in given]

    def problem(path: str, what: str, detail: str | OSError, reason: str | None = None) -> None:
        if on_problem is not None:
            text = _describe(detail) if isinstance(detail, OSError) else detail
            on_problem(ScanProblem(path, what, text, reason))

    def holds_a_root(target: str) -> bool:
        return any(is_under(r, target) for r in real_roots)

    for root_path in given:
        try:
            st = os.stat(root_path)
        except OSError as e:
            problem(root_path, "folder" if os.path.isdir(root_path) else "file", e)
            continue
        if is_system(resolve(root_path), st, devices):
            problem(root_path, "file" if not stat.S_ISDIR(st.st_mode) else "folder",
                    "in a system folder of the kernel's (/proc, /sys, /dev), not photos: never read", NOT_PHOTOS)
            continue
        if not stat.S_ISDIR(st.st_mode):
            if not stat.S_ISREG(st.st_mode):
                problem(root_path, "file", f"{kind_of(st.st_mode)}, not a file: never read", NOT_PHOTOS)
            elif root_path not in seen:
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
                if folder != root_path and is_system(folder, st, devices):
                    continue  # /proc, /sys, /dev met while walking / (or a bind mount of one)
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
                path = normalise(item.path)
                try:
                    link = item.is_symlink()
                    if link:
                        if links == "none":
                            problem(path, "link", "a symbolic link, not followed (scan setting follow_links: none)")
                            continue
                        try:
                            st = item.stat(follow_symlinks=True)
                        except FileNotFoundError:
                            problem(path, "file", f"a link to {os.readlink(item.path)}, which is not there")
                            continue
                        target = resolve(item.path)
                        if is_system(target, st, devices):
                            if stat.S_ISDIR(st.st_mode):
                                problem(path, "link", f"a link into {target}, a system folder: not followed")
                            else:
                                problem(path, "file", f"a link to {target}, a file of the kernel's: never read",
                                        NOT_PHOTOS)
                            continue
                        if stat.S_ISDIR(st.st_mode) and links == "safe" and holds_a_root(target):
                            problem(path, "link", f"a link to {target}, which holds the folder being scanned: "
                                    "not followed (it would walk all of it)")
                            continue
                    elif item.is_dir(follow_symlinks=False):  # from the listing: a folder past the length limit is
                        subfolders.append(item.path)          # reported when it is listed
                        continue
                    else:
                        st = item.stat(follow_symlinks=False)
                    if stat.S_ISDIR(st.st_mode):
                        subfolders.append(item.path)
                    elif not stat.S_ISREG(st.st_mode):
                        problem(path, "file", f"{kind_of(st.st_mode)}, not a file: never read", NOT_PHOTOS)
                    elif os.path.splitext(item.name)[1].lower() in SIDECARS:
                        continue
                    elif path not in seen:
                        seen.add(path)
                        yield FileEntry(path, st.st_size, st.st_mtime_ns)
                except OSError as e:
                    problem(path, "file", e)
            stack.extend(reversed(subfolders))


def _describe(e: OSError) -> str:
    if e.errno == errno.ENAMETOOLONG:
        return "the path is longer than the system allows"
    if e.errno in (errno.EACCES, errno.EPERM):
        return "permission denied"
    return e.strerror or str(e)
