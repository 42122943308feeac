"""Training and evaluating the landmark head on cached (frozen) CLIP embeddings.

The seed's recipe: dropout 0.1 -> linear layer, Adam, cross-entropy (or ArcFace), the learning
rate halved when validation loss stalls (ReduceLROnPlateau), early stopping after 5 epochs
without improvement (the best epoch's weights kept), gradient norm clipped at 1.0.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from organizer.landmarks.head import HeadClass, LandmarkHead
from organizer.progress import Progress


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


class _Head:
    """Dropout -> linear (or ArcFace's cosine with an additive angular margin while training)."""

    def __init__(self, dim: int, n_classes: int, cfg: TrainConfig) -> None:
        from torch import nn

        self.linear = nn.Linear(dim, n_classes)
        self.drop = nn.Dropout(cfg.dropout)
        self.cfg = cfg
        self.n = n_classes

    def train(self, on: bool) -> None:
        self.linear.train(on)
        self.drop.train(on)

    def logits(self, x, y=None):  # torch tensors
        import torch
        from torch import nn

        if self.cfg.loss != "arcface":
            return self.linear(self.drop(x))
        cos = nn.functional.normalize(self.drop(x), dim=1) @ nn.functional.normalize(self.linear.weight, dim=1).T
        if y is not None:
            theta = torch.acos(cos.clamp(-1 + 1e-6, 1 - 1e-6))
            cos = torch.where(nn.functional.one_hot(y, self.n).bool(), torch.cos(theta + self.cfg.arcface_margin), cos)
        return self.cfg.arcface_scale * cos

    def export(self, classes: list[HeadClass], clip_model: str, best_epoch: int, extra: dict | None = None) -> LandmarkHead:
        arc = self.cfg.loss == "arcface"
        return LandmarkHead(self.linear.weight.detach().numpy().copy(), self.linear.bias.detach().numpy().copy(),
                            classes, clip_model, arcface=arc, scale=self.cfg.arcface_scale if arc else 1.0,
                            meta={"source": "trained", "loss": self.cfg.loss, "best_epoch": best_epoch, **(extra or {})})


def fit(cfg: TrainConfig, n_train: int, params: list, step: Callable[[Any], Any], validate: Callable[[], tuple[float, float]],
        modules: list) -> Iterator[Progress | tuple[list[dict[str, float]], int]]:
    """The shared loop: Adam, gradient clipping, ReduceLROnPlateau on validation loss, early stopping
    that restores the best epoch's weights of ``modules``. ``step(batch_indices)`` returns a loss."""
    import torch
    from torch import nn

    opt = torch.optim.Adam(params)
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, mode="min", factor=0.5, patience=2)
    flat = [p for g in params for p in g["params"]]
    gen = torch.Generator().manual_seed(cfg.seed)
    best_loss, best_state, best_epoch, waited = float("inf"), None, 0, 0
    history: list[dict[str, float]] = []
    for epoch in range(1, cfg.max_epochs + 1):
        for m in modules:
            m.train(True)
        order = torch.randperm(n_train, generator=gen)
        total = 0.0
        for i in range(0, n_train, cfg.batch_size):
            b = order[i : i + cfg.batch_size]
            loss = step(b)
            opt.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(flat, cfg.clip_norm)
            opt.step()
            total += loss.item() * len(b)
        for m in modules:
            m.train(False)
        with torch.no_grad():
            val_loss, val_acc = validate()
        sched.step(val_loss)
        history.append({"epoch": epoch, "train_loss": total / max(n_train, 1), "val_loss": val_loss,
                        "val_top1": val_acc, "lr": opt.param_groups[0]["lr"]})
        if val_loss < best_loss - cfg.min_delta:
            best_loss, best_epoch, waited = val_loss, epoch, 0
            best_state = [{k: v.detach().clone() for k, v in _state(m).items()} for m in modules]
        else:
            waited += 1
        yield Progress("train", epoch, cfg.max_epochs, f"val loss {val_loss:.3f}, top-1 {val_acc:.1%}")
        if waited >= cfg.patience:
            break
    if best_state is not None:
        for m, st in zip(modules, best_state, strict=True):
            _load(m, st)
    yield history, best_epoch


def _state(m: Any) -> dict:
    return m.linear.state_dict() if isinstance(m, _Head) else m.state_dict()


def _load(m: Any, st: dict) -> None:
    (m.linear if isinstance(m, _Head) else m).load_state_dict(st)


def train_head(x_train: np.ndarray, y_train: np.ndarray, x_val: np.ndarray, y_val: np.ndarray,
               classes: list[HeadClass], clip_model: str, cfg: TrainConfig | None = None) -> Iterator[Progress | TrainResult]:
    """The head alone, on cached embeddings of a frozen CLIP."""
    import torch
    from torch import nn

    cfg = cfg or TrainConfig()
    torch.manual_seed(cfg.seed)
    head = _Head(x_train.shape[1], len(classes), cfg)
    xt, yt = torch.from_numpy(x_train.astype(np.float32)), torch.from_numpy(y_train.astype(np.int64))
    xv, yv = torch.from_numpy(x_val.astype(np.float32)), torch.from_numpy(y_val.astype(np.int64))
    ce = nn.CrossEntropyLoss()

    def step(b):
        return ce(head.logits(xt[b], yt[b]), yt[b])

    def validate() -> tuple[float, float]:
        if not len(xv):
            return 0.0, 0.0
        lv = head.logits(xv)
        return float(ce(lv, yv)), float((lv.argmax(1) == yv).float().mean())

    out = None
    for ev in fit(cfg, len(xt), [{"params": list(head.linear.parameters()), "lr": cfg.lr}], step, validate, [head]):
        if isinstance(ev, Progress):
            yield ev
        else:
            out = ev
    history, best_epoch = out  # type: ignore[misc]
    yield TrainResult(head.export(classes, clip_model, best_epoch), history, best_epoch,
                      stopped_early=len(history) < cfg.max_epochs)


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
    from organizer.landmarks.head import NONE_KEY

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
