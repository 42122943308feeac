"""`organizer landmarks train` and `eval`: read, embed, clean, split, train, save; evaluate on the held-out split."""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from organizer.errors import BadArgumentError
from organizer.landmarks.catalogue import catalogue
from organizer.landmarks.head import HeadClass, LandmarkHead
from organizer.media.scan import walk
from organizer.models.clip import ClipModel
from organizer.paths import normalise
from organizer.progress import Progress
from organizer.training.data import CleaningReport, Embedded, Item, clean, embed_items, read_dataset, split
from organizer.training.head import Evaluation, TrainConfig, TrainResult, evaluate, train_head

SPLIT_FILE = "split.json"
CACHE_FILE = "embeddings.npz"


@dataclass(slots=True)
class TrainOutcome:
    folder: Path
    report: CleaningReport
    result: TrainResult
    test: Evaluation
    sizes: dict[str, int]


def _embed(items: list[Item], clip: ClipModel, cache: Path, write: bool = True) -> Iterator[Progress | Embedded]:
    yield from embed_items(items, clip, cache, write_cache=write)


def train_landmarks(data: Path, out: Path, clip: ClipModel, cfg: TrainConfig, min_count: int = 10,
                    threshold: float = 0.5, near_duplicate: float = 0.02,
                    unfreeze: int = 0) -> Iterator[Progress | TrainOutcome]:
    ds = read_dataset(data)
    emb: Embedded | None = None
    for ev in _embed(ds.items, clip, out / CACHE_FILE):
        if isinstance(ev, Embedded):
            emb = ev
        else:
            yield ev
    assert emb is not None
    kept, report = clean(ds.items, emb, len(ds.missing), min_count=min_count, near_duplicate=near_duplicate)
    report.examples["missing"] = ds.missing[:5]
    if report.kept_classes < 2:
        raise BadArgumentError(f"After cleaning, {report.kept_classes} class(es) with at least {min_count} images "
                               f"remain; training needs two or more. Cleaning report: {json.dumps(report.as_dict())}")
    items = [ds.items[i] for i in kept]
    keys = sorted({it.label for it in items})
    index = {k: i for i, k in enumerate(keys)}
    y = np.array([index[it.label] for it in items])
    x = emb.vectors[kept]
    tr, va, te = split(y, seed=cfg.seed)
    by_key = {m.key: m for m in catalogue()}
    names = {it.label: it.name for it in items}
    classes = []
    for k in keys:
        m = by_key.get(k) or by_key.get(names[k].replace(" ", "_"))
        classes.append(HeadClass(k, names[k], m.latitude if m else None, m.longitude if m else None))
    result: TrainResult | None = None
    x_test = x[te]
    if unfreeze:
        from organizer.training.unfreeze import train_unfrozen

        for step in train_unfrozen(items, y, tr, va, te, classes, clip, unfreeze, cfg, out):
            if isinstance(step, TrainResult):
                result = step
            elif isinstance(step, np.ndarray):
                x_test = step
            else:
                yield step
    else:
        for trained in train_head(x[tr], y[tr], x[va], y[va], classes, clip.key, cfg):
            if isinstance(trained, TrainResult):
                result = trained
            else:
                yield trained
    assert result is not None
    test = evaluate(result.head, x_test, y[te], threshold)
    result.head.save(out)

    root = normalise(data)

    def rel(p: str) -> str:
        # lexically, as the walk found it: an image linked in from outside DATA is still DATA's
        return os.path.relpath(normalise(p), root)

    (out / SPLIT_FILE).write_text(json.dumps({
        "format": "organizer.landmark-split/1", "data": str(Path(data).resolve()), "layout": ds.format,
        "clip_model": result.head.clip_model,
        "splits": {name: [[rel(items[i].path), items[i].label] for i in idx]
                   for name, idx in (("train", tr), ("validation", va), ("test", te))},
        "cleaning": report.as_dict(), "history": result.history,
        "test": asdict(test), "config": asdict(cfg), "min_count": min_count,
    }, indent=1))
    yield TrainOutcome(out, report, result, test, {"train": len(tr), "validation": len(va), "test": len(te)})


def evaluate_landmarks(data: Path, head_dir: Path, clip: ClipModel, threshold: float,
                       negatives: Path | None = None) -> Iterator[Progress | Evaluation]:
    split_file = head_dir / SPLIT_FILE
    if not split_file.is_file():
        raise BadArgumentError(f"No {SPLIT_FILE} beside the head in {head_dir}: evaluation needs the split "
                               "that `organizer landmarks train` saved")
    meta: dict[str, Any] = json.loads(split_file.read_text())
    head = LandmarkHead.load(head_dir)
    if head.clip_model != clip.key:
        raise BadArgumentError(f"The head was trained on CLIP '{head.clip_model}', not '{clip.key}'")
    index = {c.key: i for i, c in enumerate(head.classes)}
    test = [(str(Path(data) / p), lab) for p, lab in meta["splits"]["test"]]
    missing = [p for p, _ in test if not Path(p).is_file()]
    if missing:
        raise BadArgumentError(f"{len(missing)} held-out images are not under {data} (first: {missing[0]}); "
                               "give the folder the head was trained on")
    items = [Item(p, lab, lab) for p, lab in test]
    emb: Embedded | None = None
    for ev in _embed(items, clip, head_dir / CACHE_FILE, write=False):  # train's cache is read, never replaced
        if isinstance(ev, Embedded):
            emb = ev
        else:
            yield ev
    assert emb is not None
    neg = None
    if negatives is not None:
        neg_items = [Item(e.path, "", "") for e in walk([negatives])]
        if not neg_items:
            raise BadArgumentError(f"No images in {negatives}")
        for ev in _embed(neg_items, clip, head_dir / "negatives.npz"):
            if isinstance(ev, Embedded):
                ok = [i for i in range(len(neg_items)) if i not in ev.corrupt]
                neg = ev.vectors[ok]
            else:
                yield ev
    ok = [i for i in range(len(items)) if i not in emb.corrupt]
    y = np.array([index[items[i].label] for i in ok])
    yield evaluate(head, emb.vectors[ok], y, threshold, neg)
