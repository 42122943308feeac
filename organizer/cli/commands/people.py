"""People: list, name, merge, split, suggest."""

from __future__ import annotations

import argparse
import json
import shlex
from collections.abc import Sequence
from typing import TYPE_CHECKING

from organizer.errors import BadArgumentError
from organizer.paths import display
from organizer.wording import plural

if TYPE_CHECKING:
    from organizer.library import Library


def face_ids(items: Sequence[str]) -> list[int]:
    out = []
    for item in items:
        value = item.split(":", 1)[1] if item.lower().startswith(("face:", "part:")) else item
        if not value.isdigit():
            raise BadArgumentError(f"'{item}' is not a face: give face:ID (as `organizer people --faces` lists them)")
        if len(value) > 19 or int(value) > 2**63 - 1:  # no id is that large (SQLite's are 64-bit)
            raise BadArgumentError(f"No face {value} in the library (`organizer people --faces` lists them)")
        out.append(int(value))
    return out


def people(lib: Library, args: argparse.Namespace) -> int:
    off = lib.faces_off()
    action = args.people_command or "list"
    if action == "list":
        from organizer.people.people import to_json

        show_all = getattr(args, "all", False)
        o = lib.people_overview(singles=show_all)
        photo_of = lib.part_photos([p.cover for p in o.people if p.cover])
        firsts = lib.first_paths(set(photo_of.values()))
        paths = {f: firsts.get(pid, "") for f, pid in photo_of.items()}
        if args.json:
            print(json.dumps({**to_json(o, paths, faces=args.faces), "faces_off": off}, indent=2))
            return 0
        if off:
            print(f"Faces are off: {off}.")
        if not o.people:
            print("No people yet." + ("" if off or o.ungrouped else " Faces are grouped once two or more look "
                                      "alike; `organizer index` finds them."))
        for p in o.people:
            sugg = f", {len(p.suggested)} suggested" if p.suggested else ""
            who = p.name if p.name else f"{p.number:>5}  (unnamed)"
            print(f"{len(p.photos):6} photos  {who}  ({plural(len(p.faces), 'face')}{sugg})  "
                  f"e.g. {display(paths.get(p.cover or -1, '') or '-')}")
            if args.faces:
                print("        " + " ".join(f"face:{f}" for f in p.faces + p.suggested))
        if o.ungrouped and not show_all:
            print(f"Not shown: {plural(o.ungrouped, 'face')} like no other yet (`organizer people --all` lists "
                  "them, each with a number to name it by).")
        if o.unidentified:
            print(f"{plural(o.unidentified, 'face')} too small to recognise: "
                  + " ".join(f"face:{f}" for f in o.small[:10]) + (" ..." if len(o.small) > 10 else "")
                  + " (name one with `organizer label add NAME part:ID`).")
        if any(p.name is None for p in o.people):
            print("Name a group by its number: organizer people name NUMBER NAME (numbers stay as listed)")
    elif action == "name":
        done = lib.name_person(args.group, args.name, merge=args.merge)
        print(f"{done.name}: {plural(done.faces, 'face')}" + (" (merged)" if done.merged else "")
              + f". Search for them: organizer search --person {shlex.quote(done.name)}")
        if done.left_out:
            print(f"Left out: {' '.join(f'face:{f}' for f in done.left_out)}, each in a photo where {done.name} "
                  "already is (one person shows once in a photo).")
    elif action == "merge":
        kept, count = lib.merge_people(args.source, args.target)
        print(f"Merged into {kept}: {plural(count, 'face')}.")
    elif action == "split":
        faces = face_ids(args.faces)
        lib.split_person(args.name, faces)
        print(f"{plural(len(faces), 'face')} moved out of {args.name}.")
    else:  # suggest
        if args.confirm:
            faces = face_ids(args.confirm)
            before = lib.confirm_faces(args.name, faces)
            for f, was in before.items():
                print(f"face:{f} confirmed as {args.name}" + (f" (it was {was}'s)" if was and was != args.name else "")
                      + ".")
        if args.reject:
            faces = face_ids(args.reject)
            lib.reject_faces(args.name, faces)
            print(f"{plural(len(faces), 'face')} rejected for {args.name}: never suggested again.")
        faces = lib.face_suggestions(args.name)[: args.top]
        photo_of = lib.part_photos(faces)
        paths = lib.first_paths(photo_of.values())
        if args.json:
            print(json.dumps({"schema": "organizer.people-suggestions/1", "person": args.name, "suggestions": [
                {"face_id": f, "photo_id": photo_of[f], "path": paths.get(photo_of[f], "")} for f in faces]},
                indent=2))
            return 0
        if not faces:
            print(f"No more suggestions for {args.name}.")
        for f in faces:
            print(f"face:{f}  {display(paths.get(photo_of[f], ''))}")
        if faces:
            print(f"Answer: organizer people suggest {shlex.quote(args.name)} --confirm face:ID... --reject face:ID...")
    return 0
