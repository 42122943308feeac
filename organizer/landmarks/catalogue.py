"""The world landmarks shipped in resources/landmarks.csv, friendly names, distances."""

from __future__ import annotations

import csv
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from organizer.media.places import distance_km
from organizer.resources import resource

__all__ = ["Landmark", "catalogue", "distance_km", "friendly_name"]


@dataclass(frozen=True, slots=True)
class Landmark:
    key: str
    name: str
    city: str = ""
    country: str = ""
    latitude: float | None = None
    longitude: float | None = None
    wikimedia_category: str = ""
    wikidata: str = ""


@lru_cache(maxsize=1)
def catalogue() -> tuple[Landmark, ...]:
    with resource("landmarks.csv").open(encoding="utf-8", newline="") as f:
        return tuple(
            Landmark(r["key"], r["name"], r["city"], r["country"], float(r["latitude"]), float(r["longitude"]),
                     r["wikimedia_category"], r["wikidata"])
            for r in csv.DictReader(f))


def friendly_name(category: str) -> str:
    """'Category:Eiffel_Tower' or 'https://commons.wikimedia.org/wiki/Category:Eiffel_Tower' -> 'Eiffel Tower'."""
    text = unquote(category.strip()).rsplit("/", 1)[-1]
    text = re.sub(r"^Category:", "", text, flags=re.IGNORECASE).replace("_", " ").strip()
    return re.sub(r"\s*\([^)]*\)$", "", text) or category


