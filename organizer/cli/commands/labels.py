"""The user's labels and undo."""

from __future__ import annotations

import argparse
import json
import shlex
from typing import Any


def label(lib: Any, args: argparse.Namespace) -> int:
    labels = lib.labels
    action = args.label_command
    if action == "add":
        parts = labels.resolve(args.items)
        new = lib.curate(f"label {args.name}", parts, lambda: lib.label_parts(args.name, parts))
        print(f"{args.name}: {new} added.")
    elif action == "list":
        infos = labels.list()
        if args.json:
            print(json.dumps({"schema": "organizer.labels/1", "labels": [
                {"name": i.name, "photos": i.photos, "parts": i.members, "rejected": i.rejected} for i in infos]},
                indent=2))
        elif not infos:
            print("No labels yet: `organizer label add NAME PHOTO...`")
        for i in infos if not args.json else []:
            print(f"{i.photos:6} photos  {i.name}" + (f"  ({i.rejected} rejected suggestions)" if i.rejected else ""))
    elif action == "rename":
        lib.curate(f"rename {args.old}", members(labels, args.old), lambda: labels.rename(args.old, args.new))
        print(f"Renamed {args.old} to {args.new}.")
    elif action == "merge":
        lib.curate(f"merge {args.source} into {args.target}", members(labels, args.source, args.target),
                   lambda: labels.merge(args.source, args.target))
        print(f"Merged {args.source} into {args.target}.")
    elif action == "remove":
        parts = labels.resolve(args.items) if args.items else None
        lib.curate(f"remove {args.name}", parts if parts is not None else members(labels, args.name),
                   lambda: labels.remove(args.name, parts))
        print(f"Removed {'from ' if args.items else ''}{args.name}.")
    else:  # suggest
        for items, positive in ((args.confirm, True), (args.reject, False)):
            if items:
                parts = labels.resolve(items)
                lib.curate(f"{'confirm' if positive else 'reject'} for {args.name}", parts,
                           lambda p=parts, ok=positive: labels.add(args.name, p, positive=ok))
        results = lib.suggest(args.name, args.top)
        if args.json:
            print(json.dumps({"schema": "organizer.label-suggestions/1", "label": args.name, "suggestions": [
                {"photo_id": r.photo_id, "path": r.path, "score": round(r.score, 4),
                 "part_id": r.parts[0].part_id if r.parts else None} for r in results]}, indent=2))
            return 0
        for r in results:
            print(f"{r.score:6.3f}  photo:{r.photo_id}  {r.path}")
        print(f"Teach it: organizer label suggest {shlex.quote(args.name)} --confirm photo:ID... --reject photo:ID...")
    return 0


def members(labels: Any, *names: str) -> list[int]:
    """Every part in these labels (what renaming, merging or removing them may change)."""
    out: list[int] = []
    for name in names:
        pos, neg = labels.members(name)
        out += pos + neg
    return out


def undo(lib: Any, args: argparse.Namespace) -> int:
    what = lib.undo_last()
    if args.json:
        print(json.dumps({"schema": "organizer.undo/1", "undone": what}))
    elif what is None:
        print("Nothing to undo: no change to labels or people is recorded.")
    else:
        nxt = lib.undo_what()
        print(f"Undone: {what}." + (f" (`organizer undo` again undoes: {nxt}.)" if nxt else ""))
    return 0
