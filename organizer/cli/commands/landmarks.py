"""Landmark labels: label, train, evaluate."""

from __future__ import annotations

import argparse
import json
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING

from organizer.cli.output import drive

if TYPE_CHECKING:
    from organizer.library import Library


def landmarks(lib: Library, args: argparse.Namespace) -> int:
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
        res: TrainOutcome = drive(train_landmarks(Path(args.data), out, lib.clip, cfg, args.min_count,
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
            relabel(lib)
        return 0
    from organizer.training.head import Evaluation
    from organizer.training.landmarks import evaluate_landmarks

    threshold = args.threshold if args.threshold is not None else lib.settings.landmarks.threshold
    ev: Evaluation = drive(evaluate_landmarks(Path(args.data), Path(args.head) if args.head else heads,
                                               lib.clip, threshold,
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


def relabel(lib: Library) -> None:
    labelled = lib.relabel_landmarks()
    print(f"Relabelled the library: {labelled} photos show a landmark.")
