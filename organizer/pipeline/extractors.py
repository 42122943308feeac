"""The parts pass's extractors: each finds one kind of part in a group of decoded photos. A new kind of part
(QR codes, say) is one new class here and one line in :func:`extractors`.

An extractor gives parts without vectors: the parts pass crops the image parts and embeds them through CLIP's
image tower, and the text parts through its text tower, each kind in one batch for the whole group."""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from typing import Any

import numpy as np
from PIL import Image

from organizer.models.clip import ClipModel
from organizer.models.registry import ModelSet
from organizer.parts import Box, Modality, PartType
from organizer.pipeline.ocr_gate import OcrGate
from organizer.progress import Summary
from organizer.settings import Settings
from organizer.store.db import NewPart, Store


class Extractor(ABC):
    """Finds one kind of part. ``canvas``: the longest side it wants the photo decoded at."""

    name: str  # as the progress line names its model while it loads
    model: Any  # a LazyModel
    canvas: int

    def prepare(self) -> None:  # noqa: B027 - optional: what needs the loaded models (the OCR gate)
        """Called once the models are loaded, before the first group."""

    @abstractmethod
    def extract(self, photos: Sequence[tuple[int, Image.Image]], summary: Summary) -> list[list[NewPart]]:
        """The parts of each photo (photo id, decoded image), in the same order."""


class Objects(Extractor):
    """The object detector's boxes, within the area limits, at most ``max_parts`` a photo."""

    name = "object detector"

    def __init__(self, models: ModelSet, settings: Settings) -> None:
        self.model = models.detector
        self.settings = settings.detection
        self.canvas = self.settings.canvas

    def extract(self, photos: Sequence[tuple[int, Image.Image]], summary: Summary) -> list[list[NewPart]]:
        d = self.settings
        found = self.model.detect([fit(im, d.canvas) for _, im in photos])
        return [[NewPart(x.type, np.zeros(0), Modality.IMAGE.value, x.box, x.score, x.label)
                 for x in one if d.min_area <= area(x.box) <= d.max_area][: d.max_parts] for one in found]


class Text(Extractor):
    """Text regions read by OCR, on the photos the OCR gate lets through (all of them with the gate off)."""

    name = "OCR"

    def __init__(self, models: ModelSet, settings: Settings, store: Store, clip: ClipModel) -> None:
        self.model = models.ocr
        self.settings = settings.ocr
        self.canvas = self.settings.canvas
        self.store, self.clip = store, clip
        self.gate: OcrGate | None = None

    def prepare(self) -> None:
        if self.settings.gate == "clip":
            self.gate = OcrGate(self.clip, self.store, self.settings.gate_margin)

    def extract(self, photos: Sequence[tuple[int, Image.Image]], summary: Summary) -> list[list[NewPart]]:
        out: list[list[NewPart]] = []
        for pid, im in photos:
            out.append([])
            if self.gate is None or self.gate.wants(pid):
                summary.ocr_run += 1
                out[-1] = [NewPart(PartType.TEXT.value, np.zeros(0), Modality.TEXT.value, r.box, r.confidence, None,
                                   r.text) for r in self.model.read(im)]
        return out


def extractors(models: ModelSet, settings: Settings, store: Store) -> list[Extractor]:
    """The extractors the settings switch on, in the order their parts are found."""
    out: list[Extractor] = []
    if settings.detection.enabled:
        out.append(Objects(models, settings))
    if settings.ocr.enabled:
        out.append(Text(models, settings, store, models.clip))
    return out


def area(box: Box) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def fit(im: Image.Image, side: int) -> Image.Image:
    """``im`` with its longest side at most ``side`` (itself where it is no larger)."""
    if max(im.size) <= side:
        return im
    s = side / max(im.size)
    return im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.Resampling.BILINEAR)
