"""The argument tree: every command, its options, and the settings they override."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, NoReturn

from organizer import __version__
from organizer.cli.output import CONFIRM_OVER
from organizer.errors import BadArgumentError
from organizer.paths import display
from organizer.settings import field_spec

MAX_DAYS = 36_500  # --older-than: a hundred years covers every photo


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:  # exit 2 with one line, no usage dump
        self.exit(2, f"{self.prog}: error: {display(message)}\n(see `{self.prog} --help`)\n")


def setting(p: argparse.ArgumentParser | argparse._ArgumentGroup, flag: str, path: str, what: str | None = None,
            **kw: Any) -> None:
    """An option that overrides the setting at ``path`` ("clusters.eps") for this call. Its type, choices, default
    and bounds are the settings model's, shown in the help; a value out of bounds is refused where every
    setting is checked (Settings.load), with the same words as in a settings file."""
    f = field_spec(path)
    shown = "; ".join(x for x in (f"default {f.default}", f.bounds()) if x)
    p.add_argument(flag, type=f.type, choices=f.choices, help=f"{(what or f.description).rstrip('.')} ({shown})", **kw)


def add_common(p: argparse.ArgumentParser, suppress: bool) -> None:
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
    setting(g, "--device", "models.device", "where the models run", default=d)
    setting(g, "--precision", "models.precision", default=d)
    setting(g, "--backend", "models.backend", default=d)
    g.add_argument("--settings", metavar="FILE", default=d, help="settings file (default: the user's settings.json)")
    g.add_argument("--json", action="store_true", default=d, help="print machine-readable JSON")


def build_parser() -> argparse.ArgumentParser:
    p = Parser(prog="organizer", description="A photo organizer that understands what is in its pictures.")
    p.add_argument("--version", action="version", version=f"organizer {__version__}")
    add_common(p, suppress=False)
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)

    ix = sub.add_parser("index", help="scan folders or files, analyse and store new or changed photos")
    add_common(ix, suppress=True)
    ix.add_argument("paths", nargs="*", metavar="PATH", help="folders or files (none: finish pending passes)")
    ix.add_argument("--no-parts", action="store_true", help="only the first pass (whole-photo embeddings)")
    ix.add_argument("--no-detect", action="store_true", help="no object detection in the parts pass")
    ix.add_argument("--no-ocr", action="store_true", help="no OCR in the parts pass")
    ix.add_argument("--no-faces", action="store_true", help="no faces pass")
    setting(ix, "--ocr-gate", "ocr.gate", "skip OCR on photos unlikely to hold text (clip)")
    ix.add_argument("--quiet", action="store_true", help="no progress bar")

    se = sub.add_parser("search", help="search by text or by an example photo")
    add_common(se, suppress=True)
    se.add_argument("text", nargs="?", help="what to look for")
    se.add_argument("--image", metavar="FILE", help="search by this photo instead of text")
    se.add_argument("--weights", metavar="TYPE=W,...", help="weight per part type (0 leaves a type out), "
                    "e.g. person=2,vehicle=0.5")
    setting(se, "--threshold", "search.threshold", "minimum score of a result")
    setting(se, "--top", "search.top_k", "number of photos to return")
    se.add_argument("--landmark", metavar="NAME", help="only photos labelled with this landmark")
    se.add_argument("--person", metavar="NAME", action="append", default=[],
                    help="only photos showing this person (repeat: photos showing all of them)")

    st = sub.add_parser("status", help="what the library holds, what was skipped and why, the models")
    add_common(st, suppress=True)

    fo = sub.add_parser("forget", help="remove a folder's (or file's) photos from the library")
    add_common(fo, suppress=True)
    fo.add_argument("paths", nargs="+", metavar="PATH")
    fo.add_argument("--yes", action="store_true", help=f"do not ask (needed without a terminal, or with --json, "
                    f"when more than {CONFIRM_OVER} photos would go)")

    pm = sub.add_parser("prune", help="forget files that scans no longer find (photos shown as missing)")
    add_common(pm, suppress=True)
    pm.add_argument("--missing", action="store_true", required=True, help="the files to forget: those missing")
    pm.add_argument("--older-than", type=float, metavar="DAYS", help="only those missing for at least DAYS days")
    pm.add_argument("--yes", action="store_true", help="do not ask")
    pm.add_argument("--dry-run", action="store_true", help="only say what would go")

    rl = sub.add_parser("relocate", help="a folder moved (or a drive mounts elsewhere): its photos point at their "
                        "files in the new place, keeping everything")
    add_common(rl, suppress=True)
    rl.add_argument("old", help="where the folder was")
    rl.add_argument("new", help="where it is now")
    ck = sub.add_parser("check", help="check the library database (integrity, foreign keys, consistency)")
    add_common(ck, suppress=True)
    bk = sub.add_parser("backup", help="back up the library database now (backups are also made on their own)")
    add_common(bk, suppress=True)
    rs = sub.add_parser("restore", help="put a backup in place of the library database (default: the newest)")
    add_common(rs, suppress=True)
    rs.add_argument("backup", nargs="?", metavar="BACKUP", help="a file from the library's backups/ (or --list)")
    rs.add_argument("--list", action="store_true", help="list the backups, newest first")
    rs.add_argument("--yes", action="store_true", help="do not ask (a backup of another library)")

    cl = sub.add_parser("clusters", help="groups of similar photos (DBSCAN), stored and reused")
    add_common(cl, suppress=True)
    cl.add_argument("--parts", action="store_true", help="cluster detected objects instead of whole photos")
    cl.add_argument("--recompute", action="store_true", help="recompute even if nothing changed")
    cl.add_argument("--show", metavar="LABEL", type=int, help="list the photos of one cluster (-1: unclustered)")
    setting(cl, "--eps", "clusters.eps", "DBSCAN radius in cosine distance")
    setting(cl, "--min-samples", "clusters.min_samples", "DBSCAN min_samples")

    pr = sub.add_parser("project", help="3D t-SNE map of the library, stored and reused")
    add_common(pr, suppress=True)
    pr.add_argument("--parts", action="store_true", help="project detected objects instead of whole photos")
    pr.add_argument("--recompute", action="store_true", help="recompute even if nothing changed")
    pr.add_argument("--export", metavar="FILE", help="write coordinates and labels to FILE (.csv or .json)")
    setting(pr, "--sample", "projection.sample", "points t-SNE runs on; the rest are placed")

    lm = sub.add_parser("landmarks", help="landmarks found in the library; train and evaluate the landmark head")
    add_common(lm, suppress=True)
    lsub = lm.add_subparsers(dest="landmarks_command", metavar="ACTION", parser_class=Parser)
    ll = lsub.add_parser("list", help="landmarks found, with photo counts (the default)")
    add_common(ll, suppress=True)
    lt = lsub.add_parser("train", help="train the head on an ImageFolder or Google Landmarks v2 folder")
    add_common(lt, suppress=True)
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
    add_common(le, suppress=True)
    le.add_argument("data", metavar="DATA")
    le.add_argument("--head", metavar="DIR", help="the trained head (default: the library's heads/landmarks)")
    le.add_argument("--negatives", metavar="DIR", help="a folder of non-landmark photos: rate of rejection")
    setting(le, "--threshold", "landmarks.threshold", "confidence threshold")

    la = sub.add_parser("label", help="your own labels (people, places, pets): add, list, rename, merge, remove, "
                        "suggest")
    add_common(la, suppress=True)
    lasub = la.add_subparsers(dest="label_command", metavar="ACTION", parser_class=Parser, required=True)
    x = lasub.add_parser("add", help="put photos (file, photo:ID) or parts (part:ID) in a label")
    x.add_argument("name")
    x.add_argument("items", nargs="+", metavar="PHOTO_OR_PART")
    add_common(x, suppress=True)
    x = lasub.add_parser("list", help="labels with their photo counts")
    add_common(x, suppress=True)
    x = lasub.add_parser("rename")
    x.add_argument("old")
    x.add_argument("new")
    add_common(x, suppress=True)
    x = lasub.add_parser("merge", help="move SOURCE's photos into TARGET")
    x.add_argument("source")
    x.add_argument("target")
    add_common(x, suppress=True)
    x = lasub.add_parser("remove", help="remove a label, or some of its photos")
    x.add_argument("name")
    x.add_argument("items", nargs="*", metavar="PHOTO_OR_PART")
    add_common(x, suppress=True)
    x = lasub.add_parser("suggest", help="photos that look like a label; --confirm or --reject them to teach it")
    x.add_argument("name")
    x.add_argument("--top", type=int, default=10)
    x.add_argument("--confirm", nargs="*", default=[], metavar="PHOTO_OR_PART")
    x.add_argument("--reject", nargs="*", default=[], metavar="PHOTO_OR_PART")
    add_common(x, suppress=True)

    pe = sub.add_parser("people", help="faces grouped by person: list (the default), name, merge, split, suggest")
    add_common(pe, suppress=True)
    pe.add_argument("--faces", action="store_true", help="list every face id (face:ID) of each person")
    pe.add_argument("--all", action="store_true", help="also every face like no other yet, one group each")
    psub = pe.add_subparsers(dest="people_command", metavar="ACTION", parser_class=Parser)
    x = psub.add_parser("list", help="people and unnamed groups with their photo counts (the default)")
    x.add_argument("--faces", action="store_true", help="list every face id (face:ID) of each person")
    x.add_argument("--all", action="store_true", help="also every face like no other yet, one group each")
    add_common(x, suppress=True)
    x = psub.add_parser("name", help="name an unnamed group (its number, as listed) or rename a person")
    x.add_argument("group", metavar="GROUP_OR_NAME")
    x.add_argument("name")
    x.add_argument("--merge", action="store_true", help="the name is someone's already: merge them")
    add_common(x, suppress=True)
    x = psub.add_parser("merge", help="merge two people (names or group numbers; one needs a name)")
    x.add_argument("source")
    x.add_argument("target")
    add_common(x, suppress=True)
    x = psub.add_parser("split", help="move wrongly named faces out of a person")
    x.add_argument("name")
    x.add_argument("faces", nargs="+", metavar="FACE")
    add_common(x, suppress=True)
    x = psub.add_parser("suggest", help="faces that look like a person; --confirm or --reject them")
    x.add_argument("name")
    x.add_argument("--top", type=int, default=20)
    x.add_argument("--confirm", nargs="*", default=[], metavar="FACE")
    x.add_argument("--reject", nargs="*", default=[], metavar="FACE")
    add_common(x, suppress=True)

    ft = sub.add_parser("finetune", help="fine-tune CLIP on your own image-caption pairs (mixed 1:1 with background "
                        "pairs); writes a model folder --clip-model accepts")
    add_common(ft, suppress=True)
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
    add_common(un, suppress=True)

    st2 = sub.add_parser("self-test", help="check this installation: index and search sample photos with the "
                         "offline test models, open the window offscreen")
    st2.add_argument("--no-window", action="store_true")
    gu = sub.add_parser("gui", help="open the window (the default with no command)")
    add_common(gu, suppress=True)

    mo = sub.add_parser("models", help="model utilities")
    msub = mo.add_subparsers(dest="models_command", metavar="ACTION", parser_class=Parser, required=True)
    mk = msub.add_parser("make-offline-test-set", help="write tiny random test models (meaningless rankings)")
    mk.add_argument("dir", metavar="DIR")
    mk.add_argument("--onnx", action="store_true", help="CLIP and the detector as ONNX folders, made without torch "
                    "(the default where torch is not installed)")
    add_common(mk, suppress=True)
    ex = msub.add_parser("export", help="write the models in use (--clip-model, --detector-model, or --models DIR) "
                         "as ONNX folders into DIR, which --models DIR then runs without torch (needs torch)")
    ex.add_argument("dir", metavar="DIR")
    add_common(ex, suppress=True)
    pk = msub.add_parser("pack", help="publish the ONNX folders DIR/clip and DIR/detector (as `models export` "
                         "writes them) as packs in OUT: flat files and a manifest of sizes and SHA-256 each, which an "
                         "install without torch downloads (models.download_url)")
    pk.add_argument("dir", metavar="DIR")
    pk.add_argument("out", metavar="OUT")
    pk.add_argument("--revision", required=True, help="the source models' revision (the hub commit exported)")
    add_common(pk, suppress=True)
    return p


def settings_from(args: argparse.Namespace) -> Any:
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
