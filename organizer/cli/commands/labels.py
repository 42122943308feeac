"""The user's labels and undo."""

from __future__ import annotations

import argparse
import json
import shlex
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from organizer.library import Library


def label(lib: Library, args: argparse.Namespace) -> int:
    action = args.label_command
    if action == "add":
        new = lib.label_parts(args.name, lib.resolve_items(args.items))
        print(f"{args.name}: {new} added.")
    elif action == "list":
        infos = lib.label_infos()
        if args.json:
            print(json.dumps({"schema": "organizer.labels/1", "labels": [
                {"name": i.name, "photos": i.photos, "parts": i.members, "rejected": i.rejected} for i in infos]},
                indent=2))
        elif not infos:
            print("No labels yet: `organizer label add NAME PHOTO...`")
        for i in infos if not args.json else []:
            print(f"{i.photos:6} photos  {i.name}" + (f"  ({i.rejected} rejected suggestions)" if i.rejected else ""))
    elif action == "rename":
        lib.rename_label(args.old, args.new)
        print(f"Renamed {args.old} to {args.new}.")
    elif action == "merge":
        lib.merge_labels(args.source, args.target)
        print(f"Merged {args.source} into {args.target}.")
    elif action == "remove":
        lib.remove_label(args.name, lib.resolve_items(args.items) if args.items else None)
        print(f"Removed {'from ' if args.items else ''}{args.name}.")
    else:  # suggest
        for items, positive in ((args.confirm, True), (args.reject, False)):
            if items:
                lib.label_parts(args.name, lib.resolve_items(items), positive=positive)
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


def undo(lib: Library, args: argparse.Namespace) -> int:
    what = lib.undo_last()
    if args.json:
        print(json.dumps({"schema": "organizer.undo/1", "undone": what}))
    elif what is None:
        print("Nothing to undo: no change to labels or people is recorded.")
    else:
        nxt = lib.undo_what()
        print(f"Undone: {what}." + (f" (`organizer undo` again undoes: {nxt}.)" if nxt else ""))
    return 0
