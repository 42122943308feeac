"""Train the landmark head together with the last blocks of CLIP's image tower (optional: slower, on images).

The rest of CLIP stays frozen; the unfrozen blocks learn at a hundredth of the head's rate. The
result is a new CLIP folder beside the head (its image tower changed), and the head is tied to it:
the library uses both after `--clip-model HEAD_DIR/clip` (which re-embeds the library).
"""

from __future__ import annotations

import copy
import json
import shutil
from collections.abc import Iterator
from pathlib import Path

import numpy as np

from organizer.landmarks.head import HeadClass
from organizer.models.clip import ClipModel, read_prepared
from organizer.progress import Progress
from organizer.training.data import Item
from organizer.training.head import TrainConfig, TrainResult, _Head, fit


def _pixels(items: list[Item], size: int) -> np.ndarray:
    blank = np.zeros((size, size, 3), np.uint8)  # cleaning removed unreadable files already
    return np.stack([r[1] if isinstance(r, tuple) else blank for _, r in read_prepared(items, lambda it: it.path, size)]) \
        if items else np.zeros((0, size, size, 3), np.uint8)


def train_unfrozen(items: list[Item], y: np.ndarray, tr: np.ndarray, va: np.ndarray, te: np.ndarray,
                   classes: list[HeadClass], clip: ClipModel, blocks: int, cfg: TrainConfig,
                   out: Path) -> Iterator[Progress | TrainResult | np.ndarray]:
    """Yields progress, the TrainResult, then the fine-tuned embeddings of the test items."""
    import torch
    from torch import nn

    torch.manual_seed(cfg.seed)
    base = clip.torch_loaded()  # the weights themselves: the torch model, even where ONNX runs the towers
    model = copy.deepcopy(base.model).float().train(False)
    for p in model.parameters():
        p.requires_grad_(False)
    vision = model.vision_model
    layers = list(vision.encoder.layers)
    blocks = max(1, min(blocks, len(layers)))
    tuned = nn.ModuleList([*layers[-blocks:], vision.post_layernorm, model.visual_projection])
    for p in tuned.parameters():
        p.requires_grad_(True)
    size = clip.image_size
    yield Progress("decode", 0, len(items), "images for fine-tuning")
    px = torch.from_numpy(_pixels(items, size))
    yt = torch.from_numpy(y.astype(np.int64))
    mean, std = base.mean.cpu(), base.std.cpu()

    def features(idx) -> torch.Tensor:
        x = px[idx].permute(0, 3, 1, 2).float().div(255.0).sub(mean).div(std)
        out_ = model.get_image_features(pixel_values=x)
        f = out_ if isinstance(out_, torch.Tensor) else out_.pooler_output
        return nn.functional.normalize(f, dim=1)

    head = _Head(clip.dim, len(classes), cfg)
    ce = nn.CrossEntropyLoss()
    tr_t, va_t = torch.from_numpy(tr), torch.from_numpy(va)

    def step(b):
        idx = tr_t[b]
        return ce(head.logits(features(idx), yt[idx]), yt[idx])

    def validate() -> tuple[float, float]:
        if not len(va_t):
            return 0.0, 0.0
        logits = torch.cat([head.logits(features(va_t[i : i + 64])) for i in range(0, len(va_t), 64)])
        return float(ce(logits, yt[va_t])), float((logits.argmax(1) == yt[va_t]).float().mean())

    params = [{"params": list(head.linear.parameters()), "lr": cfg.lr},
              {"params": list(tuned.parameters()), "lr": cfg.lr * 0.01}]
    result = None
    for ev in fit(cfg, len(tr), params, step, validate, [head, tuned]):
        if isinstance(ev, Progress):
            yield ev
        else:
            result = ev
    history, best_epoch = result  # type: ignore[misc]
    folder = out / "clip"
    model.save_pretrained(folder)
    base.tokenizer.save_pretrained(folder)
    source = clip.folder
    if source is not None and (source / "preprocessor_config.json").is_file():
        shutil.copyfile(source / "preprocessor_config.json", folder / "preprocessor_config.json")
    else:
        (folder / "preprocessor_config.json").write_text(json.dumps({
            "image_mean": mean.flatten().tolist(), "image_std": std.flatten().tolist()}))
    tuned_key = ClipModel("fine-tuned", folder).key
    head_out = head.export(classes, tuned_key, best_epoch, {"unfrozen_blocks": blocks, "base_clip": clip.key})
    yield TrainResult(head_out, history, best_epoch, stopped_early=len(history) < cfg.max_epochs)
    with torch.no_grad():
        te_t = torch.from_numpy(te)
        yield (torch.cat([features(te_t[i : i + 64]) for i in range(0, len(te_t), 64)]).numpy()
               if len(te_t) else np.zeros((0, clip.dim), np.float32))
