"""The library as the CLI and the GUI see it: one object over the store, the models, indexing and search."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from functools import cached_property
from typing import Any

from organizer.errors import BadArgumentError
from organizer.media.scan import normalise
from organizer.models.registry import ModelSet
from organizer.pipeline.events import Event, Progress
from organizer.pipeline.indexer import Indexer
from organizer.search.engine import PhotoMatch, Searcher, SearchQuery
from organizer.settings import Settings
from organizer.store.db import Store


class Library:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = Store(settings.library)
        self.models = ModelSet(settings)

    def close(self) -> None:
        self.store.close()

    def index(self, roots: Sequence[str | os.PathLike[str]], parts: bool = True) -> Iterator[Event]:
        yield from self.prepare_models(parts)
        yield from Indexer(self.store, self.models, self.settings).run(roots, parts=parts)

    def prepare_models(self, parts: bool = True) -> Iterator[Progress]:
        """Download the default models on first use (progress events); nothing when they are local or cached."""
        from organizer.models.download import clip_cached, download_clip, download_file

        clip = self.models.clip
        if clip.folder is None and not clip_cached(clip.spec):
            yield from download_clip(clip.spec)
        det = self.models.detector
        if parts and self.settings.detection.enabled and det.folder is None:
            target = det.checkpoint()
            if target is not None and not target[1].is_file():
                yield from download_file(target[0], target[1], f"detector {det.key}")

    @cached_property
    def searcher(self) -> Searcher:
        return Searcher(self.store, self.models.clip, self.settings)

    def search(self, query: SearchQuery) -> list[PhotoMatch]:
        return self.searcher.search(query)

    def clusters(self, mode: str = "whole", force: bool = False) -> Iterator[Any]:
        """Progress events, then a ClusterResult (reused when the embeddings did not change)."""
        from organizer.analysis.clusters import Clusterer

        return Clusterer(self.store, self.models.clip, self.settings).run(mode, force)

    def project(self, mode: str = "whole", force: bool = False) -> Iterator[Any]:
        """Progress events, then a ProjectionResult (reused when the embeddings did not change)."""
        from organizer.analysis.projection import Projector

        return Projector(self.store, self.models.clip, self.settings).run(mode, force)

    @cached_property
    def labels(self) -> Any:  # LabelStore
        from organizer.store.labels import LabelStore

        return LabelStore(self.store)

    def forget(self, folders: Sequence[str]) -> tuple[int, int]:
        """Remove the photos under folders (or single files) from the library: (paths, photos) removed."""
        paths: list[str] = []
        for f in folders:
            indexed, skipped = self.store.paths_under(normalise(f))
            paths += indexed + skipped
        if not paths:
            raise BadArgumentError("Nothing in the library is under " + ", ".join(normalise(f) for f in folders))
        photos = self.store.remove_paths(paths)
        return len(paths), photos

    def photo_details(self, photo_id: int) -> dict[str, Any] | None:
        """Everything the window shows about one photo: metadata, paths, parts with boxes, landmarks."""
        info = self.store.photos([photo_id]).get(photo_id)
        if info is None:
            return None
        info["parts"] = [p for p in self.store.parts_of(photo_id) if p.type != "whole"]
        info["landmarks"] = self.store.top_landmarks(photo_id)
        return info

    def pending_work(self) -> bool:
        """Whether a pass was left unfinished (a killed or cancelled run), so the window resumes it."""
        if self.store.photos_without_whole(self.models.clip.key, limit=1):
            return True
        return bool(self.store.count_needing_parts(self.models.parts_key()))

    def status(self) -> dict[str, Any]:
        clip_key = self.models.clip.key
        parts_key = self.models.parts_key()
        st = self.store.stats(parts_key=parts_key, model=clip_key)
        st["library"] = str(self.store.folder)
        st["models"] = {
            "clip": clip_key,
            "detector": self.models.detector.key if self.settings.detection.enabled else None,
            "ocr": self.models.ocr.key if self.settings.ocr.enabled else None,
        }
        st["skipped_files"] = [{"path": p, "reason": r, "detail": d} for p, r, d in self.store.skipped_list(50)]
        return st
