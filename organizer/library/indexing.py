"""Indexing: the passes, the int8 check that picks CLIP's precision, model downloads, landmark labels, resuming."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from filelock import FileLock, Timeout

from organizer.models.registry import ModelSet
from organizer.pipeline.indexer import Indexer
from organizer.progress import Event, Notice, Progress

if TYPE_CHECKING:  # imported where first used: a status or a search need neither
    pass

from organizer.library.base import WRITE_LOCK, LibraryBase


def _landmark_prompts() -> list[str]:
    """The landmark catalogue's zero-shot prompts (the int8 check compares the labels they give)."""
    from organizer.landmarks.head import catalogue_prompts

    return catalogue_prompts()


class Indexing(LibraryBase):
    def index(self, roots: Sequence[str | os.PathLike[str]], parts: bool = True) -> Iterator[Event]:
        """Index ``roots``; with none, finish what an interrupted run left. Only one process indexes a
        library at a time: another one waits here (and says so) until the first is done."""
        if self.store.read_only:
            from organizer.errors import LibraryError

            raise LibraryError(f"The library ({self.store.folder}) is read-only: it can be searched, but nothing can "
                               "be indexed into it.", kind="read-only")
        lock = FileLock(str(self.store.folder / WRITE_LOCK))
        try:
            lock.acquire(timeout=0)
        except Timeout:
            yield Notice("Another organizer is indexing this library; waiting for it to finish...")
            start = time.monotonic()
            while True:
                try:
                    lock.acquire(timeout=0.5)
                    break
                except Timeout:
                    yield Progress("waiting", 0, 0, None, 0.0, None)
            yield Notice(f"The other run finished after {time.monotonic() - start:.0f} s; going on.")
        try:
            yield from self.prepare_models(parts)
            yield from self.choose_precision(roots)
            yield from Indexer(self.store, self.models, self.settings).run(roots, parts=parts)
        finally:
            lock.release()

    def choose_precision(self, roots: Sequence[str | os.PathLike[str]]) -> Iterator[Event]:
        """``--precision auto`` on the ONNX path: before vectors are added, check int8 against fp32 on a sample
        spread over the library (and the folders being added) where no verdict was made on this CPU class;
        int8 where it agrees, else fp32. A refusal is final for the library (it never flips back)."""
        from organizer.models.precision import cpu_class
        from organizer.pipeline import precision_check as pc

        if not pc.applies(self.settings):
            return
        space = self.models.clip.key.removesuffix("+int8")
        verdict = pc.stored(self.store)
        if verdict is not None and verdict.get("space") == space and (
                not verdict.get("int8") or cpu_class() in verdict.get("classes", {})):
            return  # decided: fp32 for good, or int8 checked on this kind of CPU
        paths = pc.candidates(self.store, [os.fspath(r) for r in roots], self.settings.scan.follow_links)
        if len(paths) < pc.MIN_PHOTOS:
            return  # too small to judge: fp32 for now
        # the library's own model where it runs fp32 (auto before a verdict): two models in memory, not three
        fp32 = self.models.clip if not self.models.clip.key.endswith("+int8") else ModelSet(
            self._with_precision("fp32")).clip
        int8 = ModelSet(self._with_precision("int8")).clip
        result: pc.Verdict = yield from pc.check(
            fp32, int8, pc.spread(paths), limits_decode=self.settings.decode,
            cosine_threshold=self._threshold_cosine(), gate_margin=self.settings.ocr.gate_margin,
            label_threshold=self.settings.landmarks.threshold,
            landmark_prompts=_landmark_prompts() if self.settings.landmarks.enabled else [])
        was_int8 = bool(verdict and verdict.get("space") == space and verdict.get("int8"))
        pc.record(self.store, result, result.int8)
        a = result.agreement
        figures = (f"1st-percentile cosine {a.p1_cosine:.4f}, {a.crossings:.1%} of results in or out, "
                   f"{a.top_changes:.1%} of shown labels changed" if a else "")
        if result.int8:
            self._use_precision("int8")
            self.models.__dict__["clip"] = int8  # the one just checked, loaded already
            yield Notice(f"Precision: int8 agrees with fp32 on {a.vectors if a else 0} images of this library "
                         f"({figures}; the image tower at {result.speedup or 0:.1f}x fp32's speed): this library uses int8 on "
                         f"{result.cpu} CPUs.")
        else:
            if self.models.clip.key.endswith("+int8"):
                self._use_precision("fp32")
            again = " Its photos are embedded again in fp32." if was_int8 else ""
            yield Notice(f"Precision: int8 does not agree with fp32 closely enough on this library "
                         f"({'; '.join(result.failures)}): it stays fp32, for good.{again}")

    def _threshold_cosine(self) -> float:
        """The raw text-to-image cosine where the search threshold cuts (its calibration undone)."""
        lo, hi = self.settings.search.calibration.get("text>image", (0.10, 0.35))
        return float(lo + self.settings.search.threshold * (hi - lo))

    def prepare_models(self, parts: bool = True) -> Iterator[Progress]:
        """Download the default models on first use (progress events); nothing when they are local or cached."""
        from organizer.models import ort, packs
        from organizer.models.download import clip_cached, download_clip, download_file

        clip, det = self.models.clip, self.models.detector
        detect = parts and self.settings.detection.enabled and det.folder is None and not det.has_export()
        if ort.torch_version() == "none":  # the light install: the published ONNX forms, checked by manifest
            url = self.settings.models.download_url
            if clip.folder is None and not clip.has_light_path():
                yield from packs.fetch("clip", clip.spec, url)
            if detect:
                yield from packs.fetch("detector", det.key, url)
            return
        if clip.folder is None and not clip_cached(clip.spec):
            yield from download_clip(clip.spec)
        if detect:
            target = det.checkpoint()
            if target is not None and not target[1].is_file():
                yield from download_file(target[0], target[1], f"detector {det.key}")

    def landmarks_key(self) -> str:
        """What the photos' landmark labels depend on (head, threshold, distance); a change relabels them."""
        from organizer.landmarks.head import head_for, labels_key

        lm = self.settings.landmarks
        return labels_key(head_for(lm, self.settings.library, self.models.clip), lm)

    def relabel_landmarks(self) -> int:
        """Label every photo the current head and settings have not labelled; returns how many show one."""
        from organizer.progress import Summary

        summary = Summary()
        for _ in Indexer(self.store, self.models, self.settings).landmark_pass(summary):
            pass
        return summary.landmarks

    def pending_roots(self) -> list[str]:
        return Indexer(self.store, self.models, self.settings).pending_roots()

    def clear_pending(self) -> None:
        """The user cancelled: the next start does not resume that scan."""
        Indexer(self.store, self.models, self.settings).clear_pending()

    def pending_work(self) -> bool:
        """Whether a run was left unfinished (a killed or cancelled run), so the window resumes it."""
        if self.pending_roots():
            return True
        if self.store.photos_without_whole(self.models.clip.key, limit=1):
            return True
        if self.store.count_needing_parts(self.models.parts_key()):
            return True
        faces = self.models.faces_key()
        return bool(faces and self.store.count_needing_faces(faces))
