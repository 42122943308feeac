"""Decide from a photo's whole-photo CLIP embedding whether OCR is worth running on it."""

from __future__ import annotations

import numpy as np

from organizer.models.clip import ClipModel
from organizer.store.db import Store

TEXT_PROMPTS = (
    "a photo of a sign with text", "a photo of a document", "a screenshot with text", "a poster with words",
    "a photo of a menu", "a page of a book", "a street sign", "a shop front with its name", "a label with writing",
    "a whiteboard with writing", "a receipt", "a photo of a license plate",
)
OTHER_PROMPTS = (
    "a photo of a landscape", "a photo of people", "a portrait of a person", "a photo of an animal",
    "a photo of food", "a photo of a building", "a photo of a room", "a photo of a car", "a photo of the sky",
    "a photo of a beach", "a photo of a forest", "a photo of a city street",
)


class OcrGate:
    """Run OCR when the best text prompt scores at least ``margin`` above the best other prompt."""

    def __init__(self, clip: ClipModel, store: Store, margin: float) -> None:
        rows = store.vectors(clip.key, types=["whole"])
        self._vectors = {int(pid): vec.astype(np.float32) for pid, vec in zip(rows.photo_ids, rows.matrix, strict=True)}
        prompts = clip.embed_texts(list(TEXT_PROMPTS + OTHER_PROMPTS))
        self._text, self._other = prompts[: len(TEXT_PROMPTS)], prompts[len(TEXT_PROMPTS) :]
        self.margin = margin

    def score(self, photo_id: int) -> float | None:
        v = self._vectors.get(photo_id)
        if v is None:
            return None
        return float((self._text @ v).max() - (self._other @ v).max())

    def wants(self, photo_id: int) -> bool:
        s = self.score(photo_id)
        return s is None or s >= self.margin
