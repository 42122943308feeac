"""Fine-tune CLIP on the user's image-caption pairs without losing what it knows.

CLIP's symmetric contrastive loss over batches that mix the target pairs 1:1 with a background set
of general image-caption pairs (the thesis used COCO captions), or, for data with names but no
captions, a triplet loss over entity identity (anchor and positive of one entity, negative of
another; margin in cosine distance) with the background still contrastive. Before and after, the
mean matched image-caption similarity is measured on held-out target and background pairs.
Checkpoints every N steps; a run resumes from the last one. Mixed precision on a GPU.
"""

from __future__ import annotations

import contextlib
import copy
import csv
import json
import os
import random
import shutil
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from organizer.errors import BadArgumentError
from organizer.fsutil import fsync
from organizer.landmarks.catalogue import friendly_name
from organizer.media.scan import walk
from organizer.models.clip import ClipModel, read_prepared
from organizer.paths import display
from organizer.progress import Notice, Progress

CHECKPOINT = "checkpoint"
PREVIOUS = ".prev"  # the checkpoint before, kept until the new one is in place


@dataclass(slots=True)
class Pair:
    path: str
    caption: str
    entity: str


@dataclass(slots=True)
class FinetuneConfig:
    steps: int = 200
    batch_size: int = 16  # half target, half background
    lr: float = 1e-6
    weight_decay: float = 0.1
    loss: str = "contrastive"  # or "triplet"
    margin: float = 0.2  # triplet margin, in cosine distance
    holdout: float = 0.2
    checkpoint_every: int = 50
    seed: int = 0


@dataclass(slots=True)
class FinetuneReport:
    folder: Path
    steps: int
    resumed_from: int
    before: dict[str, float]
    after: dict[str, float]
    sizes: dict[str, int] = field(default_factory=dict)
    losses: list[float] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # files in the data that are not readable images


def read_pairs(source: Path) -> list[Pair]:
    """A folder per entity (its name is the caption: "a photo of Rex"), or a CSV of image path and caption."""
    source = Path(source)
    if source.is_file() and source.suffix.lower() == ".csv":
        pairs = []
        try:
            with source.open(encoding="utf-8", newline="") as f:
                for row in csv.DictReader(f):
                    path = row.get("path") or row.get("image") or row.get("file") or ""
                    caption = (row.get("caption") or row.get("text") or "").strip()
                    if path and caption:
                        p = Path(path) if Path(path).is_absolute() else source.parent / path
                        pairs.append(Pair(str(p), caption, caption))
        except UnicodeDecodeError as e:
            raise BadArgumentError(f"{source} is not UTF-8 text (byte {e.start}); save it as UTF-8") from e
        except (OSError, csv.Error) as e:
            raise BadArgumentError(f"Cannot read {source}: {getattr(e, 'strerror', None) or e}") from e
        if not pairs:
            raise BadArgumentError(f"{source}: expected columns path and caption")
        return pairs
    if not source.is_dir():
        raise BadArgumentError(f"Not found: {source}")
    pairs = []
    for sub in sorted(p for p in source.iterdir() if p.is_dir() and not p.name.startswith(".")):
        name = friendly_name(sub.name)
        pairs += [Pair(e.path, f"a photo of {name}", sub.name) for e in walk([sub])]
    if not pairs:
        raise BadArgumentError(f"No images in {source}: one folder per entity, or a CSV of path,caption")
    return pairs


def _split(pairs: list[Pair], holdout: float, seed: int) -> tuple[list[Pair], list[Pair]]:
    rng = random.Random(seed)
    by_entity: dict[str, list[Pair]] = {}
    for p in pairs:
        by_entity.setdefault(p.entity, []).append(p)
    train, held = [], []
    for group in by_entity.values():
        group = group[:]
        rng.shuffle(group)
        k = int(round(len(group) * holdout)) if len(group) > 1 else 0
        if len(by_entity) == len(pairs):  # one image per caption: hold out at random instead
            k = 0
        held += group[:k]
        train += group[k:]
    if not held:
        rng.shuffle(train)
        k = max(1, int(round(len(train) * holdout)))
        held, train = train[:k], train[k:]
    return train, held


def finetune(target: Path, background: Path, clip: ClipModel, out: Path,
             cfg: FinetuneConfig, stop_after: int | None = None) -> Iterator[Progress | Notice | FinetuneReport]:
    """Train; ``stop_after`` ends the run after that many steps (as a kill would), resumable."""
    import torch
    from torch import nn

    _check_config(cfg)
    t_pairs, b_pairs = read_pairs(target), read_pairs(background)
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = out / ".organizer-write-test"
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as e:
        raise BadArgumentError(f"--out {out}: cannot write there ({e.strerror or e})") from e
    base = clip.torch_loaded()  # the weights themselves: the torch model, even where ONNX runs the towers
    device = base.device
    size = clip.image_size
    yield Progress("decode", 0, len(t_pairs) + len(b_pairs), "images for fine-tuning")
    px: dict[str, np.ndarray] = {}
    skipped: list[tuple[str, str]] = []
    for name, pairs in (("target", t_pairs), ("background", b_pairs)):
        readable, bad = _decode_pairs(pairs, size, px)
        skipped += bad
        if len(readable) < 2:
            raise BadArgumentError(f"The {name} data needs at least two readable images (one to train on, one to "
                                   f"hold out); it has {len(readable)}" + (f" ({len(bad)} files skipped: not "
                                                                          "images or unreadable)" if bad else ""))
        pairs[:] = readable
    for path, why in skipped:
        yield Notice(f"skipped {display(path)}: {why}")
    t_train, t_held = _split(t_pairs, cfg.holdout, cfg.seed)
    b_train, b_held = _split(b_pairs, cfg.holdout, cfg.seed + 1)
    if cfg.loss == "triplet" and len({p.entity for p in t_train}) < 2:
        raise BadArgumentError("The triplet loss needs at least two entities (folders) in the target data")
    model = copy.deepcopy(base.model).float().to(device)
    tok = base.tokenizer
    mean, std = base.mean, base.std

    def images(batch: list[Pair]) -> torch.Tensor:
        x = torch.from_numpy(np.stack([px[p.path] for p in batch])).to(device)
        x = x.permute(0, 3, 1, 2).float().div(255.0).sub(mean).div(std)
        return nn.functional.normalize(_feat(model.get_image_features(pixel_values=x)), dim=1)

    def texts(batch: list[Pair]) -> torch.Tensor:
        t = tok([p.caption for p in batch], padding=True, truncation=True, max_length=base.max_text, return_tensors="pt")
        out_ = model.get_text_features(input_ids=t["input_ids"].to(device), attention_mask=t["attention_mask"].to(device))
        return nn.functional.normalize(_feat(out_), dim=1)

    def matched(group: list[Pair]) -> float:
        if not group:
            return 0.0
        model.eval()
        with torch.no_grad():
            sims = [float((images(group[i : i + 32]) * texts(group[i : i + 32])).sum(1).sum())
                    for i in range(0, len(group), 32)]
        return sum(sims) / len(group)

    params = [p for p in model.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=cfg.lr, weight_decay=cfg.weight_decay)
    start, before, losses = 0, None, []
    ck = out / CHECKPOINT
    for candidate in (ck, ck.with_name(ck.name + PREVIOUS)):  # the newest whole checkpoint
        state = _load_checkpoint(candidate, model, opt, device, cfg, clip.key)
        if state is not None:
            start, before, losses = int(state["step"]), state["before"], list(state["losses"])
            break
    if before is None:
        before = {"target": matched(t_held), "background": matched(b_held)}
    amp = device == "cuda"
    scaler = torch.amp.GradScaler("cuda") if amp else None
    half = max(1, cfg.batch_size // 2)
    stop = cfg.steps if stop_after is None else min(cfg.steps, start + stop_after)
    for step in range(start, stop):
        rng = random.Random(cfg.seed * 1_000_003 + step)  # the batch depends on the step alone: resumable
        tb = [t_train[rng.randrange(len(t_train))] for _ in range(half)]
        bb = [b_train[rng.randrange(len(b_train))] for _ in range(half)]
        model.train()
        with torch.autocast("cuda", dtype=torch.float16) if amp else contextlib.nullcontext():
            scale = model.logit_scale.exp().clamp(max=100)
            if cfg.loss == "triplet":
                loss = _triplet(images, tb, t_train, rng, cfg.margin) + _contrastive(images(bb), texts(bb), bb, scale)
            else:
                batch = tb + bb
                loss = _contrastive(images(batch), texts(batch), batch, scale)
        opt.zero_grad()
        if scaler is not None:
            scaler.scale(loss).backward()
            scaler.unscale_(opt)
            nn.utils.clip_grad_norm_(params, 1.0)
            scaler.step(opt)
            scaler.update()
        else:
            loss.backward()
            nn.utils.clip_grad_norm_(params, 1.0)
            opt.step()
        losses.append(float(loss.detach()))
        done = step + 1
        if done % cfg.checkpoint_every == 0 or done == stop:
            _checkpoint(ck, model, opt, done, before, losses, cfg, clip.key)
        yield Progress("finetune", done, cfg.steps, f"loss {losses[-1]:.3f}")
    if stop < cfg.steps:
        return  # stopped early: the checkpoint holds the run
    after = {"target": matched(t_held), "background": matched(b_held)}
    model.eval()
    model.save_pretrained(out)
    tok.save_pretrained(out)
    if clip.folder is not None and (clip.folder / "preprocessor_config.json").is_file():
        shutil.copyfile(clip.folder / "preprocessor_config.json", out / "preprocessor_config.json")
    else:
        (out / "preprocessor_config.json").write_text(json.dumps({"image_mean": mean.flatten().tolist(),
                                                                  "image_std": std.flatten().tolist()}))
    report = FinetuneReport(out, cfg.steps, start, before, after,
                            {"target_train": len(t_train), "target_held_out": len(t_held),
                             "background_train": len(b_train), "background_held_out": len(b_held)}, losses)
    report.skipped = [p for p, _ in skipped]
    (out / "finetune-report.json").write_text(json.dumps({**asdict(report), "folder": str(out), "base": clip.key,
                                                          "config": asdict(cfg)}, indent=1))
    for done_with in (ck, ck.with_name(ck.name + PREVIOUS)):
        if _is_checkpoint(done_with):
            shutil.rmtree(done_with, ignore_errors=True)
    yield report


def _contrastive(img: Any, txt: Any, batch: list[Pair], scale: Any) -> Any:
    """CLIP's symmetric loss; pairs with the same caption count as matches (soft targets)."""
    import torch
    from torch import nn

    logits = scale * img @ txt.T
    caps = [p.caption for p in batch]
    same = torch.tensor([[a == b for b in caps] for a in caps], dtype=torch.float32, device=logits.device)
    target = same / same.sum(1, keepdim=True)
    return (nn.functional.cross_entropy(logits, target) + nn.functional.cross_entropy(logits.T, target)) / 2


def _triplet(images: Any, anchors: list[Pair], pool: list[Pair], rng: random.Random, margin: float) -> Any:
    import torch

    by: dict[str, list[Pair]] = {}
    for p in pool:
        by.setdefault(p.entity, []).append(p)
    pos = [rng.choice(by[a.entity]) for a in anchors]
    neg = [rng.choice(by[rng.choice([e for e in by if e != a.entity])]) for a in anchors]
    ea, ep, en = images(anchors), images(pos), images(neg)
    d_ap = 1 - (ea * ep).sum(1)
    d_an = 1 - (ea * en).sum(1)
    return torch.relu(d_ap - d_an + margin).mean()


def _checkpoint(ck: Path, model: Any, opt: Any, step: int, before: dict, losses: list[float],
                cfg: FinetuneConfig, base: str) -> None:
    """Write a checkpoint without ever having none: the new one is written and synced beside the old,
    the old becomes ``checkpoint.prev`` until the new one is in place, then goes. A kill at any moment
    leaves at least one whole checkpoint, and resuming takes the newest whole one."""
    import torch
    from safetensors.torch import save_file

    tmp = ck.with_name(ck.name + ".tmp")
    prev = ck.with_name(ck.name + PREVIOUS)
    if tmp.exists():
        if not _is_ours(tmp):
            raise BadArgumentError(f"{tmp} exists and is not a checkpoint of organizer's; move it away")
        shutil.rmtree(tmp)
    tmp.mkdir(parents=True)
    save_file({k: v.detach().contiguous().cpu() for k, v in model.state_dict().items()}, str(tmp / "model.safetensors"))
    torch.save(opt.state_dict(), tmp / "optimizer.pt")  # read back with weights_only=True
    (tmp / "state.json").write_text(json.dumps({"step": step, "before": before, "losses": losses,
                                                "config": asdict(cfg), "base": base}))  # written last: marks it whole
    for f in ("model.safetensors", "optimizer.pt", "state.json"):
        fsync(tmp / f)
    if ck.exists():
        if not _is_ours(ck):
            raise BadArgumentError(f"{ck} exists and is not a checkpoint of organizer's; choose another --out")
        if prev.exists():
            shutil.rmtree(prev)
        os.replace(ck, prev)
    os.replace(tmp, ck)
    fsync(ck.parent)
    if prev.exists():
        shutil.rmtree(prev)


def _is_ours(folder: Path) -> bool:
    """A folder organizer wrote (only those are ever deleted): nothing in it but checkpoint files."""
    return folder.is_dir() and {p.name for p in folder.iterdir()} <= {"model.safetensors", "optimizer.pt", "state.json"}


def _is_checkpoint(folder: Path) -> bool:
    return _is_ours(folder) and (folder / "state.json").is_file()


def _load_checkpoint(ck: Path, model: Any, opt: Any, device: Any, cfg: FinetuneConfig, base: str) -> dict | None:
    """The checkpoint's state, loaded into model and optimiser; None when it is absent, for another run,
    or not whole (a kill during its writing)."""
    import torch

    if not _is_checkpoint(ck):
        return None
    try:
        state = json.loads((ck / "state.json").read_text())
        if state.get("config") != asdict(cfg) or state.get("base") != base:
            return None
        from safetensors.torch import load_file

        weights = load_file(str(ck / "model.safetensors"), device=str(device))
        opt_state = torch.load(ck / "optimizer.pt", map_location=device, weights_only=True)
        model.load_state_dict(weights)
        opt.load_state_dict(opt_state)
        return state
    except Exception:  # noqa: BLE001 - a partial checkpoint: the previous one serves
        return None


def _check_config(cfg: FinetuneConfig) -> None:
    import math

    if cfg.checkpoint_every < 1:
        raise BadArgumentError("--checkpoint-every must be at least 1")
    if cfg.steps < 1:
        raise BadArgumentError("--steps must be at least 1")
    if cfg.batch_size < 2:
        raise BadArgumentError("--batch must be at least 2 (half target, half background)")
    if not (math.isfinite(cfg.lr) and cfg.lr > 0):
        raise BadArgumentError("--lr must be a positive number")
    if not (math.isfinite(cfg.margin) and 0 <= cfg.margin <= 2):
        raise BadArgumentError("--margin must be between 0 and 2 (a cosine distance)")


def _decode_pairs(pairs: list[Pair], size: int, px: dict[str, np.ndarray]) -> tuple[list[Pair], list[tuple[str, str]]]:
    """The pairs whose image decodes (their pixels go into ``px``), and (path, reason) for the others:
    a file that is not an image is reported, never trained on."""
    ok, bad = [], []
    for p, r in read_prepared(pairs, lambda q: q.path, size):
        if isinstance(r, str):
            bad.append((p.path, r))
        else:
            px[p.path] = r[1]
            ok.append(p)
    return ok, bad


def _item(p: Pair) -> Any:
    from organizer.training.data import Item

    return Item(p.path, p.entity, p.caption)


def _feat(out: Any) -> Any:
    return out if hasattr(out, "shape") else out.pooler_output

