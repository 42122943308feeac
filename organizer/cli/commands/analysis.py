"""Clusters and the 3D projection."""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
from typing import TYPE_CHECKING

from organizer.cli.output import drive
from organizer.errors import BadArgumentError
from organizer.paths import display

if TYPE_CHECKING:
    from organizer.library import Library


def check_export(target: Path) -> None:
    """Before t-SNE runs: the export must be writable where it goes."""
    if target.suffix.lower() not in (".csv", ".json"):
        raise BadArgumentError(f"--export {target}: the file name must end in .csv or .json")
    if target.is_dir():
        raise BadArgumentError(f"--export {target} is a folder; give a file name ending in .csv or .json")
    parent = target.parent if str(target.parent) else Path(".")
    if not parent.is_dir():
        raise BadArgumentError(f"--export {target}: the folder {parent} does not exist")
    if not os.access(parent, os.W_OK):
        raise BadArgumentError(f"--export {target}: the folder {parent} cannot be written")


def clusters(lib: Library, args: argparse.Namespace) -> int:
    from organizer.analysis.clusters import ClusterResult

    mode = "parts" if args.parts else "whole"
    res: ClusterResult = drive(lib.clusters(mode, args.recompute), args, ClusterResult)
    paths = lib.first_paths({c.cover_photo_id for c in res.clusters if c.cover_photo_id} | (
        set(next((c.photo_ids for c in res.clusters if c.label == args.show), [])) if args.show is not None else set()))

    def first_path(pid: int | None) -> str | None:
        return paths.get(pid) if pid is not None else None

    if args.show is not None:
        chosen = next((c for c in res.clusters if c.label == args.show), None)
        if chosen is None:
            raise BadArgumentError(f"No cluster {args.show}; `organizer clusters` lists them")
        if args.json:
            print(json.dumps({"schema": "organizer.cluster/1", "label": chosen.label, "name": chosen.name,
                              "photos": [{"photo_id": p, "path": first_path(p)} for p in chosen.photo_ids]}, indent=2))
        else:
            print(f"{chosen.name} ({chosen.photos} photos)")
            for p in chosen.photo_ids:
                print(f"  {display(first_path(p) or '-')}")
        return 0
    if args.json:
        print(json.dumps({"schema": "organizer.clusters/1", "mode": mode, "reused": res.reused,
                          "seconds": round(res.seconds, 3), "points": res.points, "clusters": [
                              {"label": c.label, "name": c.name, "photos": c.photos, "cover_photo_id": c.cover_photo_id,
                               "cover": first_path(c.cover_photo_id), "photo_ids": c.photo_ids} for c in res.clusters]},
                         indent=2))
        return 0
    found = [c for c in res.clusters if c.label >= 0]
    print(f"{len(found)} clusters of {'whole photos' if mode == 'whole' else 'objects'} over {res.points} vectors"
          + (" (unchanged since the last run)" if res.reused else f" ({res.seconds:.1f} s)"))
    for c in res.clusters:
        label = "  -" if c.label < 0 else f"{c.label:3}"
        print(f"{label}  {c.name:24} {c.photos:6} photos  cover: {display(first_path(c.cover_photo_id) or '-')}")
    print("Show one with `organizer clusters --show LABEL`.")
    return 0


def project(lib: Library, args: argparse.Namespace) -> int:
    from organizer.analysis.projection import ProjectionResult

    mode = "parts" if args.parts else "whole"
    res: ProjectionResult = drive(lib.project(mode, args.recompute), args, ProjectionResult)
    n = len(res.points.part_ids)
    if args.export:
        written = lib.export_projection(res, Path(args.export), mode)
        if not args.json:
            print(f"Wrote {written} points to {args.export}")
    if args.json:
        print(json.dumps({"schema": "organizer.project/1", "mode": mode, "reused": res.reused, "points": n,
                          "sampled": res.sampled, "seconds": round(res.seconds, 3), "export": args.export}, indent=2))
        return 0
    how = "all of them" if res.sampled == n else (f"t-SNE ran on a sample of {res.sampled} (stratified by cluster); "
                                                   f"the other {n - res.sampled} were placed from their "
                                                   "5 most similar sampled points")
    print(f"3D projection of {n} {'photos' if mode == 'whole' else 'objects'}: {how}"
          + (" (unchanged since the last run)." if res.reused else f" ({res.seconds:.1f} s)."))
    return 0
