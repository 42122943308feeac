"""Indexing and the library's upkeep: index, search, status, forget, relocate, prune, check, backup, restore."""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from organizer.cli.output import ask, confirm, drive
from organizer.cli.parser import MAX_DAYS
from organizer.errors import BadArgumentError, LibraryError
from organizer.paths import display
from organizer.wording import clip_time, index_summary, plural, skip_line

if TYPE_CHECKING:
    from organizer.library import Library

JSON_STATUS = "organizer.status/1"


JSON_INDEX = "organizer.index/1"


def index(lib: Library, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from organizer.progress import Notice, Skipped, Summary

    show = not (args.quiet or args.json)
    skipped: list[dict[str, str]] = []

    def other(ev: Any) -> None:
        if isinstance(ev, Skipped):
            skipped.append({"path": ev.path, "reason": ev.reason, "detail": ev.detail})
            if show:
                tqdm.write("skipped " + skip_line(ev.path, ev.reason, ev.detail), file=sys.stderr)
        elif isinstance(ev, Notice) and not args.json:
            tqdm.write(display(ev.message), file=sys.stderr)

    summary = drive(lib.index(args.paths, parts=not args.no_parts), args, Summary, other, show=show,
                     postfix=False) or Summary()
    if args.json:
        print(json.dumps({"schema": JSON_INDEX, **asdict(summary), "skipped_files": skipped}, indent=2))
    else:
        for line in index_summary(summary):
            print(line)
    return 0


def search(lib: Library, args: argparse.Namespace) -> int:
    from organizer.search.engine import SearchQuery, parse_weights, to_json
    from organizer.settings import SearchSettings, check_value

    if args.top is not None and args.top < 1:
        raise BadArgumentError("--top must be at least 1")
    if args.threshold is not None:  # within the setting's own bounds: nan, inf or 50 would match nothing, silently
        check_value(SearchSettings, "threshold", args.threshold, "--threshold")
    q = SearchQuery(text=args.text, image=args.image, weights=dict(parse_weights(args.weights)),
                    threshold=args.threshold, top_k=args.top, landmark=args.landmark,
                    persons=list(args.person))
    results = lib.search(q)
    if args.json:
        print(json.dumps(to_json(q, results, lib.embedding_space(), lib.settings), indent=2))
        return 0
    if not results:
        print("No photos match." + ("" if lib.photo_count() else " The library is empty: "
                                    "add photos with `organizer index FOLDER`."))
        return 0
    for i, r in enumerate(results, 1):
        info = r.info
        print(f"{i:3}. {r.score:6.3f}  {display(r.path)}" + (f"  [{info.landmark}]" if info and info.landmark else "")
              + ("  (missing: file not found)" if r.missing else ""))
        for p in r.parts:
            if p.type == "whole":
                continue
            extra = f' "{p.text}"' if p.text else (f" ({p.label})" if p.label else "")
            box = ", ".join(f"{x:.2f}" for x in p.box)
            where = f"at [{box}]" if p.at_seconds is None else f"at {clip_time(p.at_seconds)} in the video"
            print(f"      {p.type}{extra} {p.score:.3f} {where}")
        if r.keyword_score:
            print(f"      words match (+{r.keyword_score:.2f})")
    return 0


def status(lib: Library, args: argparse.Namespace) -> int:
    st = lib.status()
    if args.json:
        print(json.dumps({"schema": JSON_STATUS, **asdict(st)}, indent=2, default=str))
        return 0
    print(f"Library: {display(st.library)}")
    print(f"Photos: {st.photos} ({st.paths} files)"
          + (f"; {st.missing_photos} missing (their files were not found; kept)" if st.missing_photos else ""))
    failed = lambda n: f" ({n} could not be read; retried when their file changes)" if n else ""  # noqa: E731
    print(f"  pass 1 (whole-photo embeddings): {st.whole_pass_done + st.whole_pass_failed}/{st.photos}"
          + failed(st.whole_pass_failed))
    print(f"  pass 2 (parts):                  {st.parts_pass_done + st.parts_pass_failed}/{st.photos}"
          + failed(st.parts_pass_failed))
    print(f"  landmarks checked:               {st.landmarks_checked}/{st.photos} "
          f"({st.photos_with_landmark} show one)")
    print("  faces:                           " + (f"off ({st.faces_off})" if st.faces_off
                                                   else f"{st.faces_pass_done}/{st.photos}"))
    parts = st.parts
    print("Parts: " + (", ".join(f"{k} {v}" for k, v in parts.items()) if parts else "none yet"))
    sk = st.skipped
    print(f"Skipped files: {sum(sk.values())}" + (" (" + ", ".join(f"{k}: {v}" for k, v in sk.items()) + ")"
                                                   if sk else ""))
    for f in st.skipped_files[:20]:
        print("  " + skip_line(f.path, f.reason, f.detail))
    for folder, n in st.offline:
        print(f"Offline: {display(folder)} is not there now ({plural(n, 'photo')}; an unplugged drive or a moved "
              "folder? `organizer relocate OLD NEW` if it moved)")
    if st.missing_paths:
        print(f"Missing files: {st.missing_paths} (kept; `organizer prune --missing` forgets them)")
        for p in st.missing_files[:20]:
            print(f"  {display(p)}")
    if st.pending_roots:
        print("Unfinished scan (`organizer index` finishes it): " + ", ".join(map(display, st.pending_roots)))
    m = st.models
    print(f"Models: clip {m['clip']}; detector {m['detector'] or 'off'}; ocr {m['ocr'] or 'off'}; "
          f"face {m['face'] or 'off'}")
    if st.precision:
        prec = st.precision
        checked = ", ".join(f"{cls}: {'agrees' if v.get('int8') else 'refused (' + '; '.join(v.get('failures', [])) + ')'}"
                            for cls, v in prec.get("classes", {}).items())
        print(f"Precision: {'int8' if prec.get('int8') else 'fp32'} (int8 checked against fp32 on this library's "
              f"photos: {checked})")
    print(f"Backups: {st.backups}" + (f" (newest: {display(st.newest_backup)})" if st.newest_backup else ""))
    if st.backup_failed:
        print(f"  WARNING: {display(st.backup_failed)} (`organizer backup` tries again)")
    if st.read_only:
        print("Read-only: the library can be read but not changed (read-only disk or folder, or a full disk).")
    return 0


def forget(lib: Library, args: argparse.Namespace) -> int:
    paths = lib.paths_to_forget(args.paths)
    if not paths:
        raise BadArgumentError("Nothing in the library is under " + ", ".join(display(p) for p in args.paths))
    photos = lib.photos_under(paths)
    confirm(args, photos, f"Forget {len(paths)} files: {photos} photos leave the library, with their analysis "
             "and labels.")
    n, photos = lib.forget(args.paths)
    if args.json:
        print(json.dumps({"schema": "organizer.forget/1", "paths": n, "photos": photos}))
    else:
        print(f"Forgot {n} files; {photos} photos left the library.")
    return 0


def relocate(lib: Library, args: argparse.Namespace) -> int:
    n = lib.relocate(args.old, args.new)
    if args.json:
        print(json.dumps({"schema": "organizer.relocate/1", "old": args.old, "new": args.new, "files": n}))
    else:
        print(f"{n} files found in {display(args.new)}: their photos point there now, with everything they had.")
    return 0


def prune(lib: Library, args: argparse.Namespace) -> int:
    if args.older_than is not None and not (0 <= args.older_than <= MAX_DAYS):
        raise BadArgumentError(f"--older-than must be a number of days from 0 to {MAX_DAYS:,}")
    paths, photos = lib.prune_missing(args.older_than, dry_run=True)
    if not args.dry_run and paths:
        confirm(args, photos, f"Forget {paths} missing files: {photos} photos leave the library, with their "
                 "analysis and labels.")
        paths, photos = lib.prune_missing(args.older_than)
    if args.json:
        print(json.dumps({"schema": "organizer.prune/1", "paths": paths, "photos": photos, "dry_run": args.dry_run}))
    elif args.dry_run:
        print(f"Would forget {paths} missing files; {photos} photos would leave the library.")
    else:
        print(f"Forgot {paths} missing files; {photos} photos left the library.")
    return 0


def check(lib: Library, args: argparse.Namespace) -> int:
    rep = lib.check()
    if args.json:
        print(json.dumps({"schema": "organizer.check/1", "ok": rep.ok, "integrity": rep.integrity,
                          "foreign_keys": rep.foreign_keys, "consistency": rep.consistency}, indent=2))
        return 0 if rep.ok else 1
    if rep.ok:
        print(f"The library at {display(str(lib.folder))} is sound: integrity, foreign keys and the "
              "photo/part/vector records all check out.")
        return 0
    for title, found in (("integrity", rep.integrity), ("foreign keys", rep.foreign_keys),
                         ("consistency", rep.consistency)):
        for line in found[:20]:
            print(f"{title}: {line}")
    backups = lib.backups()
    print("Problems found. " + (f"Bring back a backup with `organizer restore` (newest: {backups[0]})."
                                if backups else "There is no backup to restore."))
    return 1


def backup(lib: Library, args: argparse.Namespace) -> int:
    made = lib.backup("manual")
    if args.json:
        print(json.dumps({"schema": "organizer.backup/1", "backup": str(made)}))
    else:
        print(f"Backed up to {made}")
    return 0


def restore(settings: Any, args: argparse.Namespace) -> int:
    from organizer.library import backups_of, restore

    folder = Path(settings.library)
    if args.list:
        found = backups_of(folder)
        if args.json:
            print(json.dumps({"schema": "organizer.backups/1", "backups": [str(p) for p in found]}))
        elif not found:
            print(f"No backups yet in {folder / 'backups'}.")
        for p in found if not args.json else []:
            print(p)
        return 0
    chosen = Path(args.backup) if args.backup else None
    if chosen is not None and not chosen.is_file() and (folder / "backups" / chosen).is_file():
        chosen = folder / "backups" / chosen
    try:
        used, kept = restore(folder, chosen)
    except LibraryError as e:
        if e.kind != "other-library":
            raise
        ask(args, f"{e}", "Nothing was restored.")
        used, kept = restore(folder, chosen, other_library=True)
    if args.json:
        print(json.dumps({"schema": "organizer.restore/1", "restored": str(used), "replaced": str(kept) if kept else None}))
    else:
        print(f"Restored the library from {used}." + (f" The database it replaced is kept as {kept}." if kept else ""))
    return 0
