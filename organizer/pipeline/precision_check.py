"""The int8 check on a library's own photos: a sample spread over the library embedded in fp32 and in int8
(each photo whole and its central crop, as a part would be), with the zero-shot prompts the app uses,
compared by :func:`organizer.models.precision.agreement`."""

from __future__ import annotations

import time
from collections.abc import Generator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from organizer.media.decode import SkipError, load
from organizer.models.clip import ClipModel, prepare
from organizer.models.precision import LIMITS, Agreement, Limits, agreement, cpu_class
from organizer.pipeline.ocr_gate import OTHER_PROMPTS, TEXT_PROMPTS
from organizer.progress import Meter, Progress

SAMPLE = 200  # photos; each gives two vectors (whole, central crop)
MIN_PHOTOS = 50  # fewer: no verdict yet (fp32), the check waits for a larger library
BATCH = 16


@dataclass(slots=True)
class Verdict:
    space: str  # the fp32 embedding space the verdict belongs to
    cpu: str  # the CPU class measured on
    int8: bool
    agreement: Agreement | None
    failures: list[str] = field(default_factory=list)
    seconds: float = 0.0
    speedup: float | None = None  # int8's image tower against fp32's on the sample, wall clock

    def as_dict(self) -> dict[str, Any]:
        return {"space": self.space, "cpu": self.cpu, "int8": self.int8, "failures": self.failures,
                "agreement": self.agreement.as_dict() if self.agreement else None,
                "seconds": round(self.seconds, 1), "speedup": round(self.speedup, 2) if self.speedup else None}


def spread(paths: Sequence[str], n: int = SAMPLE) -> list[str]:
    """``n`` of ``paths`` spread evenly over them in path order (every folder, not the first burst)."""
    ordered = sorted(paths)
    if len(ordered) <= n:
        return ordered
    picks = np.linspace(0, len(ordered) - 1, n).round().astype(int)
    return [ordered[i] for i in dict.fromkeys(picks.tolist())]


def _texts(model: ClipModel, texts: list[str]) -> np.ndarray:
    """In batches of 64 of like lengths (a batch is padded to its longest; 648 landmark prompts in one batch
    took the text tower's arena to 1.2 GB), in the order given."""
    order = sorted(range(len(texts)), key=lambda i: (len(texts[i]), i))
    done = np.concatenate([model.embed_texts([texts[j] for j in order[i:i + 64]]) for i in range(0, len(order), 64)])
    out = np.empty_like(done)
    out[order] = done
    return out


def prompts(landmark_prompts: Sequence[str] = ()) -> tuple[list[str], tuple[int, int]]:
    """The prompts compared: the OCR gate's two sets, then zero-shot labels (the landmark catalogue's)."""
    return list(TEXT_PROMPTS) + list(OTHER_PROMPTS) + list(landmark_prompts), (len(TEXT_PROMPTS), len(OTHER_PROMPTS))


def check(fp32: ClipModel, int8: ClipModel, paths: Sequence[str], *, limits_decode: Any, cosine_threshold: float,
          gate_margin: float, label_threshold: float = 0.5, landmark_prompts: Sequence[str] = (),
          limits: Limits = LIMITS) -> Generator[Progress, None, Verdict]:
    """Embed ``paths`` (a spread sample) both ways and decide. Unreadable files are left out."""
    start = time.perf_counter()
    size = fp32.image_size
    pixels: list[np.ndarray] = []
    meter = Meter("precision check", len(paths))
    for p in paths:
        try:
            image = load(p, limits_decode, min_side=size).image
        except SkipError:
            yield meter.step(1, p)
            continue
        w, h = image.size
        crop = image.crop((w // 4, h // 4, w - w // 4, h - h // 4))
        pixels += [prepare(image, size, "crop"), prepare(crop, size, "crop")]
        yield meter.step(1, p)
    space = fp32.key
    if len(pixels) < 4:
        return Verdict(space, cpu_class(), False, None, ["too few readable photos to compare"])
    batch = np.stack(pixels)
    spent = {}
    vectors = {}
    for name, model in (("fp32", fp32), ("int8", int8)):
        t = time.perf_counter()
        vectors[name] = np.concatenate([model.embed_pixels(batch[i:i + BATCH]) for i in range(0, len(batch), BATCH)])
        spent[name] = time.perf_counter() - t
    texts, gate = prompts(landmark_prompts)
    t32, t8 = (_texts(m, texts) for m in (fp32, int8))
    a = agreement(vectors["fp32"], vectors["int8"], t32, t8, gate=gate,
                  cosine_threshold=cosine_threshold, gate_margin=gate_margin, logit_scale=fp32.logit_scale(),
                  label_threshold=label_threshold)
    failures = a.failures(limits)
    return Verdict(space, cpu_class(), not failures, a, failures, time.perf_counter() - start,
                   spent["fp32"] / max(spent["int8"], 1e-9))


META_KEY = "precision"  # the library's verdict: {"space", "int8", "classes": {cpu class: Verdict.as_dict()}}


def stored(store: Any) -> dict[str, Any] | None:
    import json

    try:
        data = json.loads(store.get_meta(META_KEY) or "null")
    except ValueError:
        return None
    return data if isinstance(data, dict) else None


def record(store: Any, verdict: Verdict, int8: bool) -> None:
    import json

    data = stored(store) or {}
    if data.get("space") != verdict.space:
        data = {"space": verdict.space, "classes": {}}
    data["int8"] = int8
    data.setdefault("classes", {})[verdict.cpu] = verdict.as_dict()
    store.set_meta(META_KEY, json.dumps(data))


def applies(settings: Any) -> bool:
    """Whether ``--precision auto`` chooses between int8 and fp32 here: on the ONNX path on the CPU (an
    install without torch, or ``--backend onnx``). With torch, ``auto`` keeps its choice: bf16 where the CPU
    runs it natively, else fp32 (measured against ONNX fp32 per model and machine)."""
    from organizer.models import ort
    from organizer.models.base import best_device

    m = settings.models
    if m.precision != "auto" or m.device not in ("auto", "cpu"):
        return False
    if m.backend != "onnx" and ort.torch_version() != "none":
        return False
    return best_device(m.device) == "cpu"


def candidates(store: Any, roots: Sequence[str], links: str) -> list[str]:
    """The files a sample is drawn from: the library's photos and what the roots hold."""
    from organizer.media.scan import walk

    paths = set(store.all_paths())  # "/" would miss a Windows library's "C:\\..." paths
    for entry in walk(roots, exclude=[str(store.folder)], links=links):
        paths.add(entry.path)
    return sorted(paths)
