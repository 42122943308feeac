"""Path text every layer shares: a path made absolute and normal, resolved through links, shown to a
person (one line, never a raw control character), and whether one path lies under a folder."""

from __future__ import annotations

import os
import re


def normalise(path: str | os.PathLike[str]) -> str:
    return os.path.normpath(os.path.abspath(os.fspath(path)))


def resolve(path: str | os.PathLike[str]) -> str:
    """A root as the library stores it: absolute, with symbolic links resolved, so that a folder reached
    through a link and directly is one folder."""
    return os.path.normpath(os.path.realpath(os.path.abspath(os.fspath(path))))


_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f]")


def display(path: str) -> str:
    """A path (or one line of text holding one) as a person sees it: bytes that are not UTF-8 shown as U+FFFD,
    and control characters escaped (``\\n``, ``\\x1b``), so that a file name holding a newline or a terminal's
    escape sequence prints as one line and recolours nothing."""
    try:
        path.encode("utf-8")
    except UnicodeEncodeError:
        path = os.fsencode(path).decode("utf-8", "replace")
    if _CONTROL.search(path):
        path = _CONTROL.sub(lambda m: repr(m.group())[1:-1], path)
    return path


def is_under(path: str, folder: str) -> bool:
    folder = normalise(folder)
    return path == folder or path.startswith(folder.rstrip(os.sep) + os.sep)
