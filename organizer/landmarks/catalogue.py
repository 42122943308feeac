"""The world landmarks shipped in resources/landmarks.csv, friendly names, distances."""

from __future__ import annotations

import csv
import math
import re
from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import unquote

from organizer.resources import resource


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


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0088 * 2 * math.asin(min(1.0, math.sqrt(a)))
