"""Training and evaluating the landmark head on cached (frozen) CLIP embeddings.

The seed's recipe: dropout 0.1 -> linear layer, Adam, cross-entropy (or ArcFace), the learning
rate halved when validation loss stalls (ReduceLROnPlateau), early stopping after 5 epochs
without improvement (the best epoch's weights kept), gradient norm clipped at 1.0.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from organizer.models.landmark_head import HeadClass, LandmarkHead
from organizer.pipeline.events import Progress


@dataclass(slots=True)
class TrainConfig:
    loss: str = "ce"  # "ce" or "arcface"
    lr: float = 1e-3
    max_epochs: int = 100
    patience: int = 5
    min_delta: float = 1e-4  # a smaller fall of the validation loss is no improvement
    batch_size: int = 256
    dropout: float = 0.1
    clip_norm: float = 1.0
    arcface_margin: float = 0.2
    arcface_scale: float = 30.0
    seed: int = 0


@dataclass(slots=True)
class TrainResult:
    head: LandmarkHead
    history: list[dict[str, float]] = field(default_factory=list)
    best_epoch: int = 0
    stopped_early: bool = False


def train_head(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
               classes: list[HeadClass], clip_model: str, cfg: TrainConfig | None = None) -> Iterator[Progress | TrainResult]:
    import torch
    from torch import nn

    cfg = cfg or TrainConfig()
    torch.manual_seed(cfg.seed)
    dim, n_classes = x_train.shape[1], len(classes)
    linear = nn.Linear(dim, n_classes)
    drop = nn.Dropout(cfg.dropout)
    arcface = cfg.loss == "arcface"
    opt = torch.optim.Adam(linear.parameters(), lr=cfg.lr)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2)
    xt, yt = torch.from_numpy(x_train.astype(np.float32)), torch.from_numpy(y_train.astype(np.int64))
    xv, yv = torch.from_numpy(x_val.astype(np.float32)), torch.from_numpy(y_val.astype(np.int64))
    ce = nn.CrossEntropyLoss()

    def logits(x: torch.Tensor, y: torch.Tensor | None) -> torch.Tensor:
        if not arcface:
            return linear(drop(x))
        cos = nn.functional.normalize(drop(x), dim=1) @ nn.functional.normalize(linear.weight, dim=1).T
        if y is not None:  # additive angular margin on the true class, while training
            theta = torch.acos(cos.clamp(-1 + 1e-6, 1 - 1e-6))
            target = torch.cos(theta + cfg.arcface_margin)
            cos = torch.where(nn.functional.one_hot(y, n_classes).bool(), target, cos)
        return cfg.arcface_scale * cos

    best = (float("inf"), None, 0)
    history: list[dict[str, float]] = []
    waited = 0
    gen = torch.Generator().manual_seed(cfg.seed)
    for epoch in range(1, cfg.max_epochs + 1):
        linear.train()
        drop.train()
        order = torch.randperm(len(xt), generator=gen)
        total = 0.0
        for i in range(0, len(xt), cfg.batch_size):
            b = order[i : i + cfg.batch_size]
            loss = ce(logits(xt[b], yt[b]), yt[b])
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(linear.parameters(), cfg.clip_norm)
            opt.step()
            total += loss.item() * len(b)
        linear.eval()
        drop.eval()
        with torch.no_grad():
            lv = logits(xv, None) if len(xv) else torch.zeros(0, n_classes)
            val_loss = float(ce(lv, yv)) if len(xv) else total / max(len(xt), 1)
            val_acc = float((lv.argmax(1) == yv).float().mean()) if len(xv) else 0.0
        sched.step(val_loss)
        history.append({"epoch": epoch, "train_loss": total / max(len(xt), 1), "val_loss": val_loss,
                        "val_top1": val_acc, "lr": opt.param_groups[0]["lr"]})
        if val_loss < best[0] - cfg.min_delta:
            best = (val_loss, {k: v.clone() for k, v in linear.state_dict().items()}, epoch)
            waited = 0
        else:
            waited += 1
        yield Progress("train", epoch, cfg.max_epochs, f"val loss {val_loss:.3f}, top-1 {val_acc:.1%}")
        if waited >= cfg.patience:
            break
    if best[1] is not None:
        linear.load_state_dict(best[1])
    head = LandmarkHead(linear.weight.detach().numpy().copy(), linear.bias.detach().numpy().copy(), classes,
                        clip_model, arcface=arcface, scale=cfg.arcface_scale if arcface else 1.0,
                        meta={"source": "trained", "loss": cfg.loss, "best_epoch": best[2]})
    yield TrainResult(head, history, best[2], stopped_early=len(history) < cfg.max_epochs)


@dataclass(slots=True)
class Evaluation:
    images: int
    top1: float
    top5: float
    threshold: float
    covered: float  # share of test photos whose top probability reaches the threshold
    accuracy_at_threshold: float  # top-1 accuracy among those
    negatives: int = 0
    rejected_negatives: float | None = None  # share of non-landmark photos kept below the threshold


def evaluate(head: LandmarkHead, x: np.ndarray, y: np.ndarray, threshold: float,
             negatives: np.ndarray | None = None) -> Evaluation:
    from organizer.models.landmark_head import NONE_KEY

    is_mark = np.array([c.key != NONE_KEY for c in head.classes])
    probs = head.probabilities(x) if len(x) else np.zeros((0, len(head.classes)))
    p = np.where(is_mark[None, :], probs, -1.0)
    order = np.argsort(-p, axis=1)
    top1 = float((order[:, 0] == y).mean()) if len(y) else 0.0
    top5 = float((order[:, :5] == y[:, None]).any(1).mean()) if len(y) else 0.0
    conf = p.max(1) if len(y) else np.zeros(0)
    sure = conf >= threshold
    acc_sure = float((order[sure, 0] == y[sure]).mean()) if sure.any() else 0.0
    ev = Evaluation(len(y), top1, top5, threshold, float(sure.mean()) if len(y) else 0.0, acc_sure)
    if negatives is not None and len(negatives):
        pn = np.where(is_mark[None, :], head.probabilities(negatives), -1.0).max(1)
        ev.negatives = len(negatives)
        ev.rejected_negatives = float((pn < threshold).mean())
    return ev
