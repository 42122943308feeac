"""Find the resources folder the same way from a source checkout, an installed package and a frozen app."""

from __future__ import annotations

import sys
from pathlib import Path


def resources_dir() -> Path:
    candidates = []
    frozen = getattr(sys, "_MEIPASS", None)
    if frozen:
        candidates.append(Path(frozen) / "resources")
    candidates.append(Path(__file__).resolve().parents[1] / "resources")  # source checkout or editable install
    candidates.append(Path(sys.prefix) / "share" / "organizer" / "resources")  # installed wheel
    for c in candidates:
        if c.is_dir():
            return c
    raise FileNotFoundError("organizer's resources folder was not found; looked in " + ", ".join(map(str, candidates)))


def resource(name: str) -> Path:
    return resources_dir() / name
