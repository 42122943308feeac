"""The newest glibc symbol version any ELF file of a bundle asks for: the oldest glibc the bundle runs on.

Usage: python packaging/glibc_needed.py dist/organizer   (prints e.g. "2.28 (onnxruntime/capi/...so)")
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

VERSION = re.compile(rb"GLIBC_([0-9]+)\.([0-9]+)(?:\.([0-9]+))?\x00")


def needed(root: Path) -> tuple[tuple[int, ...], str]:
    best: tuple[tuple[int, ...], str] = ((0,), "")
    for f in root.rglob("*"):
        if not f.is_file() or f.is_symlink():
            continue
        with f.open("rb") as fh:
            if fh.read(4) != b"\x7fELF":
                continue
        for m in VERSION.finditer(f.read_bytes()):
            v = tuple(int(x) for x in m.groups() if x is not None)
            if v > best[0]:
                best = (v, str(f.relative_to(root)))
    return best


if __name__ == "__main__":
    version, where = needed(Path(sys.argv[1]))
    print(f"{'.'.join(map(str, version))} ({where})")
