"""Models: export to ONNX, make packs, fine-tune (the last two need the `train` extra)."""

from __future__ import annotations

import argparse
import json
import shlex
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from organizer.cli.output import drive
from organizer.cli.parser import settings_from
from organizer.errors import BadArgumentError, OrganizerError

if TYPE_CHECKING:
    from organizer.library import Library


def export_models(args: argparse.Namespace) -> int:
    """`organizer models export DIR`: CLIP and the detector in use as ONNX folders (DIR/clip, DIR/detector),
    in the same embedding space; OCR and face weights copied beside them where they are files."""
    from organizer.models.onnx_folders import export_clip, export_detector
    from organizer.models.registry import ModelSet

    need_train("models export", " (the app itself runs the exported folders without them)")
    target = Path(args.dir)
    if target.exists() and not target.is_dir():
        raise BadArgumentError(f"{target} is a file; give a folder to write the models into")
    models = ModelSet(settings_from(args))
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


def need_train(command: str, why: str = "") -> None:
    """One line where a command needs the `train` extra (torch, torchvision, transformers) and it is missing."""
    missing = [m for m in ("torch", "torchvision", "transformers") if absent(m)]
    if missing:
        raise OrganizerError(f"`organizer {command}` needs the train extra ({', '.join(missing)} not installed): "
                             f"pip install 'organizer[train]'{why}.")


def absent(module: str) -> bool:
    import importlib.util

    try:
        return importlib.util.find_spec(module) is None
    except (ImportError, ValueError):
        return True


def pack_models(args: argparse.Namespace) -> int:
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


def finetune(lib: Library, args: argparse.Namespace) -> int:
    from organizer.training.finetune import FinetuneConfig, FinetuneReport, finetune

    out = Path(args.out) if args.out else Path(lib.settings.library) / "models" / "clip-finetuned"
    cfg = FinetuneConfig(steps=args.steps, batch_size=args.batch, lr=args.lr, loss=args.loss, margin=args.margin,
                         checkpoint_every=args.checkpoint_every)
    rep: FinetuneReport | None = drive(finetune(Path(args.data), Path(args.background), lib.clip, out, cfg),
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
