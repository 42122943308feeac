"""Paths in the database: any name the file system gives, stored losslessly as text.

POSIX file names are bytes; Python shows the bytes that are not UTF-8 (Latin-1 names from old camera
cards and network shares) as lone surrogates (U+DC80..U+DCFF), which SQLite's UTF-8 text cannot hold.
The store keeps such a character as a private-use one (U+F780..U+F7FF), and escapes a real
U+F700..U+F7FF with a U+F700 in front, so every name maps to one text and back. The mapping is
character by character: a folder's stored form is a prefix of the stored form of every path under it.
"""

from __future__ import annotations

import re

from sqlalchemy import String
from sqlalchemy.types import TypeDecorator

from organizer.paths import display

__all__ = ["FsPath", "display", "from_db", "to_db"]

_ESC = "\uf700"
# The common case, nothing to map, found by a regex at C speed (a character-by-character test in Python cost
# the window 0.3 s to list 10k photos).
_NEEDS_TO_DB = re.compile("[\ud800-\uffff]")
_NEEDS_FROM_DB = re.compile("[\uf700-\uf7ff]")


def to_db(path: str) -> str:
    if not _NEEDS_TO_DB.search(path):
        return path
    out = []
    for c in path:
        o = ord(c)
        if 0xDC80 <= o <= 0xDCFF:
            out.append(chr(0xF700 + (o - 0xDC00)))
        elif 0xF700 <= o <= 0xF7FF:
            out.append(_ESC + c)
        else:
            out.append(c)
    return "".join(out)


def from_db(text: str) -> str:
    if not _NEEDS_FROM_DB.search(text):
        return text
    out = []
    it = iter(text)
    for c in it:
        if c == _ESC:
            out.append(next(it, ""))
        elif "\uf780" <= c <= "\uf7ff":
            out.append(chr(0xDC00 + (ord(c) - 0xF700)))
        else:
            out.append(c)
    return "".join(out)


class FsPath(TypeDecorator[str]):
    """A file system path column (see the module's doc)."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else to_db(value)

    def process_result_value(self, value: str | None, dialect: object) -> str | None:
        return None if value is None else from_db(value)
