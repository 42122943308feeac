"""Place names from GPS, offline: GeoNames' places of 1,000 people or more (CC BY 4.0), shipped in the
`reverse-geocode` package. A photo taken near a city of 100,000 or more is named after it ("Paris,
France"), else after the nearest place; its search words also hold the region and the country, so that
"Lisbon" or "Japan" finds it."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

LOCAL_KM = 50.0  # farther from any place (out at sea, in a desert): no name
CITY_KM = 30.0  # a city this close names the photo
CITY_POPULATION = 100_000


@dataclass(slots=True)
class Place:
    name: str  # "Paris, France"
    words: str  # "Vanves Paris Île-de-France Hauts-de-Seine France": what search matches


def distance_km(lat1: float, lon1: float, lat2: float, lon2: float) -> float:
    """Great-circle distance (haversine)."""
    p1, p2 = math.radians(lat1), math.radians(lat2)
    dp, dl = p2 - p1, math.radians(lon2 - lon1)
    a = math.sin(dp / 2) ** 2 + math.cos(p1) * math.cos(p2) * math.sin(dl / 2) ** 2
    return 6371.0088 * 2 * math.asin(min(1.0, math.sqrt(a)))


def available() -> bool:
    import importlib.util

    return importlib.util.find_spec("reverse_geocode") is not None


def places(coords: Sequence[tuple[float, float]]) -> list[Place | None]:
    """The place of each (latitude, longitude); None where no place is near. The first call loads the
    places (about 1.5 s); later ones take microseconds a photo."""
    if not coords:
        return []
    import reverse_geocode

    near = reverse_geocode.search(list(coords))
    big = reverse_geocode.search(list(coords), min_population=CITY_POPULATION)
    out: list[Place | None] = []
    for (lat, lon), n, b in zip(coords, near, big, strict=True):
        if distance_km(lat, lon, n["latitude"], n["longitude"]) > LOCAL_KM:
            out.append(None)
            continue
        city = b if distance_km(lat, lon, b["latitude"], b["longitude"]) <= CITY_KM else n
        country = n.get("country") or ""
        name = ", ".join(x for x in (city.get("city"), country) if x)
        words = [n.get("city"), city.get("city"), n.get("state"), n.get("county"), country]
        out.append(Place(name, " ".join(dict.fromkeys(w for w in words if w))))
    return out
