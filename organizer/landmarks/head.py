"""The landmark head: CLIP image embedding -> dropout 0.1 -> linear layer over landmark classes.

Two sources: a trained head (a folder holding head.safetensors and labels.json, written by
`organizer landmarks train`), or zero-shot weights built from CLIP text embeddings of prompts
such as "a photo of the Eiffel Tower in Paris, France" for every landmark in the catalogue, plus
a few prompts for ordinary photos ("a photo of a person", ...) that absorb probability when no
landmark is shown. Stored as safetensors; never unpickled.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Generator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from organizer.errors import ModelUnavailableError
from organizer.progress import Meter, Progress, drain

if TYPE_CHECKING:
    from organizer.models.clip import ClipModel
    from organizer.settings import LandmarkSettings

NONE_KEY = "__none__"
BACKGROUND_PROMPTS = (
    "a photo of a person", "a selfie", "a group photo of friends", "a photo of a child", "a photo of food",
    "a photo of a pet", "a photo of a room at home", "a photo of an office", "a photo of a car",
    "a photo of a document", "a screenshot", "a photo of a garden", "a photo of a forest", "a photo of a beach",
    "a photo of a street", "a photo of a house", "a photo of a party", "a photo of a field", "a photo of the sky",
    "a close-up photo of an object",
)
FORMAT = "organizer.landmark-head/1"


@dataclass(slots=True)
class HeadClass:
    key: str
    name: str
    latitude: float | None = None
    longitude: float | None = None


@dataclass(slots=True)
class LandmarkHead:
    weight: np.ndarray  # (classes, dim) float32
    bias: np.ndarray  # (classes,)
    classes: list[HeadClass]
    clip_model: str
    arcface: bool = False
    scale: float = 1.0  # logit scale for ArcFace (cosine) heads
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> str:
        h = hashlib.blake2b(digest_size=8)
        h.update(self.weight.tobytes()[:1 << 20])
        h.update(json.dumps([c.key for c in self.classes]).encode())
        return f"{self.meta.get('source', 'head')}@{h.hexdigest()}"

    def logits(self, x: np.ndarray) -> np.ndarray:
        x = np.asarray(x, np.float32)
        if self.arcface:
            w = self.weight / np.maximum(np.linalg.norm(self.weight, axis=1, keepdims=True), 1e-12)
            xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
            return self.scale * (xn @ w.T)
        return x @ self.weight.T + self.bias  # dropout is the identity at inference

    def probabilities(self, x: np.ndarray) -> np.ndarray:
        z = self.logits(x)
        z -= z.max(1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(1, keepdims=True)

    def save(self, folder: Path) -> None:
        from safetensors.numpy import save_file

        folder.mkdir(parents=True, exist_ok=True)
        save_file({"weight": np.ascontiguousarray(self.weight, np.float32),
                   "bias": np.ascontiguousarray(self.bias, np.float32)}, str(folder / "head.safetensors"))
        (folder / "labels.json").write_text(json.dumps({
            "format": FORMAT, "clip_model": self.clip_model, "arcface": self.arcface, "scale": self.scale,
            "meta": self.meta, "classes": [{"key": c.key, "name": c.name, "latitude": c.latitude,
                                            "longitude": c.longitude} for c in self.classes]}, indent=1))

    @classmethod
    def load(cls, folder: Path) -> LandmarkHead:
        from safetensors.numpy import load_file

        try:
            labels = json.loads((folder / "labels.json").read_text())
            tensors = load_file(str(folder / "head.safetensors"))
        except (OSError, ValueError) as e:
            raise ModelUnavailableError("landmark head", str(folder), str(folder),
                                        "needs head.safetensors and labels.json written by `organizer landmarks "
                                        f"train` ({e})") from e
        classes = [HeadClass(c["key"], c["name"], c.get("latitude"), c.get("longitude")) for c in labels["classes"]]
        if tensors["weight"].shape[0] != len(classes):
            raise ModelUnavailableError("landmark head", str(folder), str(folder), "weights and labels disagree")
        return cls(tensors["weight"], tensors["bias"], classes, labels.get("clip_model", ""),
                   bool(labels.get("arcface")), float(labels.get("scale", 1.0)), labels.get("meta", {}))


def zero_shot_head(clip: Any, cache: Path | None = None) -> LandmarkHead:
    """Weights from CLIP text embeddings of one prompt per catalogue landmark (and the background
    prompts), scaled by CLIP's own logit scale; cached as safetensors under ``cache``."""
    return drain(zero_shot_head_steps(clip, cache))


def catalogue_prompts() -> list[str]:
    """One prompt per catalogue landmark, then the background prompts: the zero-shot head's classes."""
    from organizer.landmarks.catalogue import catalogue

    return [f"a photo of the {m.name} in {m.city}, {m.country}" for m in catalogue()] + list(BACKGROUND_PROMPTS)


def zero_shot_head_steps(clip: Any, cache: Path | None = None) -> Generator[Progress, None, LandmarkHead]:
    """:func:`zero_shot_head`, yielding progress while the prompts go through the text tower."""
    from organizer.landmarks.catalogue import catalogue
    from organizer.resources import resource

    digest = hashlib.blake2b(digest_size=8)
    digest.update(clip.key.encode())
    digest.update(resource("landmarks.csv").read_bytes())
    digest.update("|".join(BACKGROUND_PROMPTS).encode())
    folder = cache / f"zeroshot-{digest.hexdigest()}" if cache else None
    if folder is not None and (folder / "head.safetensors").is_file():
        return LandmarkHead.load(folder)
    marks = catalogue()
    prompts = catalogue_prompts()
    meter = Meter("landmark-head", len(prompts))
    # batched by length: a batch is padded to its longest prompt, so like lengths waste no work
    order = sorted(range(len(prompts)), key=lambda i: (len(prompts[i]), i))
    emb_sorted = []
    for i in range(0, len(order), 64):
        emb_sorted.append(clip.embed_texts([prompts[j] for j in order[i : i + 64]]))
        yield meter.step(len(emb_sorted[-1]), "zero-shot landmark head")
    emb = np.empty((len(prompts), emb_sorted[0].shape[1]), np.float32)
    emb[np.asarray(order)] = np.concatenate(emb_sorted)
    scale = clip.logit_scale()
    classes = [HeadClass(m.key, m.name, m.latitude, m.longitude) for m in marks]
    classes += [HeadClass(NONE_KEY, p) for p in BACKGROUND_PROMPTS]
    head = LandmarkHead((emb * scale).astype(np.float32), np.zeros(len(classes), np.float32), classes, clip.key,
                        meta={"source": "zero-shot"})
    if folder is not None:
        with contextlib.suppress(OSError):  # a read-only cache still gets labels, just not the cache
            tmp = folder.with_name(folder.name + f".tmp{os.getpid()}")
            head.save(tmp)
            os.replace(tmp, folder)  # whole or absent: a killed save leaves no half head
    return head


def head_for(settings: LandmarkSettings, library: Path, clip: ClipModel) -> LandmarkHead:
    return drain(head_steps(settings, library, clip))


def head_steps(settings: LandmarkSettings, library: Path, clip: ClipModel) -> Generator[Progress, None, LandmarkHead]:
    """The head the settings choose: a trained one (the library's heads/landmarks under 'auto', or a
    folder), else the zero-shot head of this CLIP model: built once per model, with progress, and kept
    in the user's cache, so a new library on a known model pays nothing."""
    spec = settings.head
    heads = Path(library) / "heads"
    trained = heads / "landmarks"
    if spec == "auto" and (trained / "labels.json").is_file():
        spec = str(trained)
    if spec in ("auto", "zero-shot"):
        from organizer.settings import user_cache

        return (yield from zero_shot_head_steps(clip, cache=user_cache() / "heads"))
    head = LandmarkHead.load(Path(spec).expanduser())
    if head.clip_model and head.clip_model != clip.key:
        raise ModelUnavailableError("landmark head", spec, spec, f"it was trained on CLIP '{head.clip_model}' "
                                    f"but the library uses '{clip.key}'; train it again or change the CLIP model")
    return head


def labels_key(head: LandmarkHead, settings: LandmarkSettings) -> str:
    """Everything a photo's landmark label depends on; when it changes, photos are labelled again."""
    return f"{head.key}|{settings.threshold}|{settings.max_km}|{settings.top_k}"
