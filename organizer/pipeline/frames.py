"""A video's frames through CLIP: besides its poster frame (its whole-photo vector, from the first pass), one
frame per ten seconds (at most twelve, near-duplicates left out) is embedded as a part of type "frame" at its
time in the clip, so a search finds a scene anywhere in a video and says where. Keyed by the CLIP model, so a
model change embeds them again; a video whose frames cannot be read is not retried until its file changes."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from organizer.media.decode import SkipError, bounded
from organizer.media.lookahead import bounded_map
from organizer.media.video import FRAME_EVERY, video_frames
from organizer.models.clip import prepare
from organizer.models.registry import ModelSet
from organizer.parts import Modality, PartType
from organizer.progress import Event, Meter, Progress, Stored, Summary
from organizer.settings import Settings
from organizer.store.db import NewPart, Store


class Frames:
    def __init__(self, store: Store, models: ModelSet, settings: Settings) -> None:
        self.store, self.models, self.settings = store, models, settings

    def run(self, summary: Summary) -> Iterator[Event]:
        clip = self.models.clip
        todo = self.store.videos_needing_frames(clip.key, FRAME_EVERY)
        if not todo:
            return
        if not clip.is_loaded:
            yield Progress("models", 0, 0, "CLIP")
        clip.load()
        size = clip.image_size
        meter = Meter("frames", len(todo))

        def work(item: tuple[int, str, float]) -> list[tuple[float, np.ndarray]] | None:
            try:
                frames = bounded(lambda: video_frames(item[1], item[2], max_side=max(size * 2, 448)),
                                 self.settings.decode.native_decode_seconds)
            except SkipError:
                return None
            except Exception:  # noqa: BLE001 - one odd video never ends a run
                return None
            return [(t, prepare(im, size, "crop")) for t, im in frames]

        for (pid, path, _), frames in bounded_map(work, todo, self.settings.embed.workers, ahead=2):
            parts: list[NewPart] = []
            if frames:
                vectors = clip.embed_pixels(np.stack([px for _, px in frames]))
                parts = [NewPart(PartType.FRAME.value, v, Modality.IMAGE.value, at_seconds=t)
                         for (t, _), v in zip(frames, vectors, strict=True)]
            if self.store.replace_frames(pid, parts, clip.key):
                summary.frames_found += len(parts)
                yield Stored("frames", [pid])
            yield meter.step(1, path)
        summary.seconds["frames"] = meter.elapsed
