"""The world map under the Places page: Natural Earth's country outlines at 1:110m (public domain), as
world-atlas distributes them (TopoJSON, ISC licence), in resources/world-110m.json. Decoded here into
rings of (longitude, latitude)."""

from __future__ import annotations

import json
from functools import cache

from organizer.resources import resource

Ring = list[tuple[float, float]]


@cache
def country_rings() -> tuple[tuple[str, tuple[Ring, ...]], ...]:
    """(country name, its rings) for every country."""
    topo = json.loads(resource("world-110m.json").read_text(encoding="utf-8"))
    (sx, sy), (tx, ty) = topo["transform"]["scale"], topo["transform"]["translate"]
    arcs: list[Ring] = []
    for arc in topo["arcs"]:  # delta-encoded, quantised positions
        x = y = 0
        pts: Ring = []
        for dx, dy in arc:
            x, y = x + dx, y + dy
            pts.append((x * sx + tx, y * sy + ty))
        arcs.append(pts)

    def ring(indexes: list[int]) -> Ring:
        out: Ring = []
        for i in indexes:
            pts = arcs[i] if i >= 0 else arcs[~i][::-1]
            out.extend(pts if not out else pts[1:])
        return out

    countries = []
    for g in topo["objects"]["countries"]["geometries"]:
        polys = g.get("arcs") or []
        if g["type"] == "Polygon":
            polys = [polys]
        rings = tuple(ring(r) for poly in polys for r in poly)
        countries.append(((g.get("properties") or {}).get("name", ""), rings))
    return tuple(countries)
