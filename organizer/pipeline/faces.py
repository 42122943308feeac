"""Faces in the parts pass's photos or in a pass of their own: inside the detector's person boxes (padded) and,
only where a photo has none, in the whole photo. Its own key, so that switching faces on costs no detection
or OCR."""

from __future__ import annotations

from collections.abc import Callable, Generator, Sequence

import numpy as np
from PIL import Image

from organizer.errors import ModelUnavailableError
from organizer.fsutil import chunked
from organizer.media.lookahead import bounded_map
from organizer.media.scan import FileEntry
from organizer.models.registry import ModelSet
from organizer.parts import FACE, FACE_MODALITY, Box
from organizer.pipeline.rereading import CHANGED, changed_entries, reader
from organizer.progress import Event, Meter, Progress, Stored, Summary
from organizer.settings import Settings
from organizer.store.db import NewPart, Store


class Faces:
    """Finds and stores faces for the indexer's passes. ``newly_failed``: counts photos no pass of this run
    could read yet (the indexer's, shared by its passes)."""

    def __init__(self, store: Store, models: ModelSet, settings: Settings, newly_failed: Callable[[list[int]], int]) -> None:
        self.store, self.models, self.settings = store, models, settings
        self._newly_failed = newly_failed

    def round(self, summary: Summary) -> Generator[Event, None, list[FileEntry]]:
        key = self.models.faces_key()
        if key is None:
            return []
        todo = self.store.photos_needing_faces(key)
        if not todo:
            return []
        face = self.models.face
        if not face.is_loaded:
            yield Progress("models", 0, 0, "faces")
            face.load()
        dec, canvas = self.settings.decode, self.settings.detection.canvas
        meter = Meter("faces", len(todo))
        work = reader(dec, canvas, self.store.expected_hashes(todo))
        changed: list[FileEntry] = []
        for chunk in chunked(bounded_map(work, todo, self.settings.embed.workers, ahead=8), 8):
            changed += changed_entries(chunk)
            chunk = [(item, im if isinstance(im, Image.Image) or im is None else CHANGED) for item, im in chunk]
            failed = [pid for (pid, _), im in chunk if im is None]
            if failed:
                self.store.mark_failed(failed, faces=key)
                summary.failed += self._newly_failed(failed)
            boxes = self.store.person_boxes([pid for (pid, _), im in chunk if isinstance(im, Image.Image)])
            done = []
            for (pid, _), im in chunk:
                if not isinstance(im, Image.Image):
                    continue
                parts = self.find(im, boxes.get(pid, []))
                if self.store.replace_faces(pid, parts, key):
                    done.append(pid)
                    summary.faces_found += len(parts)
            summary.faces_done += len(done)
            if done:
                yield Stored("faces", done)
            yield meter.step(len(chunk), chunk[-1][0][1])
        summary.seconds["faces"] = summary.seconds.get("faces", 0.0) + meter.elapsed
        return changed

    def due_at(self, canvas: int) -> tuple[str | None, set[int]]:
        """The faces key and the photos that need faces, where the parts pass can find them (photos decoded at
        the size the faces pass uses); else (None, nothing)."""
        if canvas != self.settings.detection.canvas:
            return None, set()
        try:
            key = self.models.faces_key()
        except ModelUnavailableError:
            return None, set()  # the faces pass says why, after the parts are stored
        if key is None:
            return None, set()
        return key, {pid for pid, _ in self.store.photos_needing_faces(key)}

    def find(self, im: Image.Image, people: Sequence[Box]) -> list[NewPart]:
        """The faces of one photo as parts: inside its person boxes (padded) or, with none, in the whole photo."""
        f, face = self.settings.faces, self.models.face
        regions = [pad(b, f.padding) for b in people]
        found = [x for x in face.find(im, regions or None) if x.score >= f.min_score]
        return [NewPart(FACE, x.descriptor if x.descriptor is not None else np.zeros(0, np.float32), FACE_MODALITY,
                        x.box, x.score, space=face.key, landmarks=x.landmarks, quality=x.quality) for x in found]


def pad(box: Box, share: float) -> Box:
    dx, dy = (box[2] - box[0]) * share, (box[3] - box[1]) * share
    return (max(0.0, box[0] - dx), max(0.0, box[1] - dy), min(1.0, box[2] + dx), min(1.0, box[3] + dy))
