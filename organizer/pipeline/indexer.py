"""Indexing: scan the folders, store every new photo with its whole-photo embedding (searchable
at once), then find and embed its parts. Both passes resume where a killed run stopped."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from PIL import Image
from sqlalchemy.exc import SQLAlchemyError

from organizer.errors import BadArgumentError, LibraryError
from organizer.landmarks.labeller import label_photos
from organizer.media.decode import Decoded, SkipError, content_hash, decode, read_file
from organizer.media.scan import FileEntry, normalise, walk
from organizer.models.clip import prepare
from organizer.models.registry import ModelSet
from organizer.parts import Modality, PartType
from organizer.pipeline.events import Event, Meter, Notice, Progress, Skipped, Stored, Summary
from organizer.pipeline.lookahead import bounded_map
from organizer.pipeline.ocr_gate import OcrGate
from organizer.settings import Settings
from organizer.store.db import FileRef, NewPart, NewPhoto, PhotoInfo, Store

T = TypeVar("T")


@dataclass(slots=True)
class _Read:
    """What a worker thread made of one file."""

    hash: str | None = None
    known: bool = False  # the bytes are already a photo: link, do not analyse
    pixels: np.ndarray | None = None
    info: PhotoInfo | None = None
    error: SkipError | None = None


class Indexer:
    def __init__(self, store: Store, models: ModelSet, settings: Settings) -> None:
        self.store = store
        self.models = models
        self.settings = settings

    # ---- the whole run ------------------------------------------------------------------------

    def run(self, roots: Sequence[str | os.PathLike[str]], parts: bool = True) -> Iterator[Event]:
        """Index ``roots`` (folders or files). A generator: stop iterating to cancel."""
        summary = Summary()
        if roots:
            yield from self.scan_and_store(roots, summary)
        yield from self.reembed(summary)
        if self.settings.landmarks.enabled:
            yield from self.landmark_pass(summary)
        if parts:
            yield from self.parts_pass(summary)
        yield summary

    # ---- scan + first pass --------------------------------------------------------------------

    def scan_and_store(self, roots: Sequence[str | os.PathLike[str]], summary: Summary) -> Iterator[Event]:
        wanted = [normalise(r) for r in roots]
        existing = [r for r in wanted if os.path.exists(r)]
        for r in wanted:
            if r not in existing:
                yield Notice(f"Not found: {r} (nothing indexed from it was removed; "
                             "use `organizer forget` to drop it from the library)")
        if not existing:
            if wanted:
                raise BadArgumentError("None of the given folders or files exist: " + ", ".join(wanted))
            return
        meter = Meter("scan", 0)
        known = self.store.known_files(existing)
        skipped = self.store.skipped_files()
        entries: list[FileEntry] = []
        seen: set[str] = set()
        for e in walk(existing, exclude=[str(self.store.folder)]):
            seen.add(e.path)
            summary.scanned += 1
            k = known.get(e.path)
            if k is not None and (k[1], k[2]) == (e.size, e.mtime_ns) or k is None and skipped.get(e.path) == (e.size, e.mtime_ns):
                summary.unchanged += 1
            else:
                entries.append(e)
            if summary.scanned % 500 == 0:
                yield Progress("scan", summary.scanned, 0, e.path, summary.scanned / max(meter.elapsed, 1e-9))
        gone = [p for p in known if p not in seen]
        gone += [p for p in skipped if p not in seen and any(_under(p, r) for r in existing)]
        summary.seconds["scan"] = meter.elapsed
        yield Progress("scan", summary.scanned, summary.scanned, None, summary.scanned / max(meter.elapsed, 1e-9), 0)
        if entries:
            yield from self._store_new(entries, summary)
        if gone:  # after the new paths, so that a moved photo keeps its analysis
            with _writing():
                summary.removed_photos += self.store.remove_paths(gone)
            summary.removed_paths += len(gone)

    def _store_new(self, entries: list[FileEntry], summary: Summary) -> Iterator[Event]:
        clip = self.models.clip
        clip.load()
        size = clip.image_size
        known_hashes = self.store.all_hashes()
        dec = self.settings.decode

        def work(e: FileEntry) -> _Read:
            try:
                data = read_file(e.path, dec.max_file_bytes)
                h = content_hash(data)
                if h in known_hashes:
                    return _Read(hash=h, known=True)
                d = decode(data, dec.max_pixels, min_side=size)
                return _Read(hash=h, pixels=prepare(d.image, size, "crop"), info=_info(h, len(data), d))
            except SkipError as err:
                return _Read(error=err)

        meter = Meter("whole", len(entries))
        batch: list[tuple[FileEntry, _Read]] = []
        links: list[tuple[FileRef, str]] = []
        skips: list[tuple[FileRef, str, str]] = []
        pending: dict[str, NewPhoto] = {}
        bs = self.settings.embed.batch_size

        def flush() -> Iterator[Event]:
            nonlocal batch, links, skips, pending
            if batch:
                vectors = clip.embed_pixels(np.stack([r.pixels for _, r in batch]))  # type: ignore[misc]
                for (_, r), vec in zip(batch, vectors, strict=True):
                    pending[r.hash].whole.vector = vec  # type: ignore[index]
            photos = list(pending.values())
            with _writing():
                ids = self.store.add_photos(photos, clip.key) if photos else []
                if links:
                    by_hash = self.store.photo_for_hash({h for _, h in links})
                    self.store.link_files([(f, by_hash[h]) for f, h in links if h in by_hash])
                if skips:
                    self.store.record_skips(skips)
            known_hashes.update(pending)
            summary.new += len(photos)
            summary.linked += len(links) + sum(len(p.extra_files) for p in photos)
            summary.skipped += len(skips)
            if ids:
                yield Stored("whole", ids)
            batch, links, skips, pending = [], [], [], {}

        for e, r in bounded_map(work, entries, self.settings.embed.workers, ahead=bs * 2):
            ref = FileRef(e.path, e.size, e.mtime_ns)
            if r.error is not None:
                skips.append((ref, r.error.reason.value, r.error.detail))
                yield Skipped(e.path, r.error.reason.value, r.error.detail)
            elif r.known or r.hash in known_hashes:
                links.append((ref, r.hash))  # type: ignore[arg-type]
            elif r.hash in pending:
                pending[r.hash].extra_files.append(ref)  # the same bytes twice in this run
            else:
                assert r.info is not None and r.hash is not None
                pending[r.hash] = NewPhoto(ref, r.info, NewPart(PartType.WHOLE.value, np.zeros(0), Modality.IMAGE.value))
                batch.append((e, r))
            yield meter.step(1, e.path)
            if len(batch) >= bs or len(links) + len(skips) >= 4 * bs:
                yield from flush()
        yield from flush()
        summary.seconds["whole"] = meter.elapsed

    # ---- a model change: re-embed whole photos in the new space -------------------------------

    def reembed(self, summary: Summary) -> Iterator[Event]:
        clip = self.models.clip
        todo = self.store.photos_without_whole(clip.key)
        if not todo:
            return
        yield Notice(f"{len(todo)} photos have no embedding from {clip.key}; embedding them now.")
        size = clip.image_size
        dec = self.settings.decode
        meter = Meter("whole", len(todo))

        def work(item: tuple[int, int, str]) -> np.ndarray | None:
            try:
                d = decode(read_file(item[2], dec.max_file_bytes), dec.max_pixels, min_side=size)
                return prepare(d.image, size, "crop")
            except SkipError:
                return None

        rows: list[tuple[int, np.ndarray]] = []
        for chunk in _chunks(bounded_map(work, todo, self.settings.embed.workers, self.settings.embed.batch_size * 2),
                             self.settings.embed.batch_size):
            ok = [(item, px) for item, px in chunk if px is not None]
            if ok:
                vecs = clip.embed_pixels(np.stack([px for _, px in ok]))
                rows = [(item[1], v) for (item, _), v in zip(ok, vecs, strict=True)]
                with _writing():
                    self.store.set_whole_vectors(rows, clip.key)
                summary.reembedded += len(rows)
                yield Stored("whole", [item[0] for item, _ in ok])
            yield meter.step(len(chunk), chunk[-1][0][2])

    # ---- landmarks, from the whole-photo vectors (no decoding) ---------------------------------

    def landmark_pass(self, summary: Summary) -> Iterator[Event]:
        head = self.models.landmark_head
        key, clip_key = head.key, self.models.clip.key
        total = self.store.count_needing_landmarks(key)
        if not total:
            return
        lm = self.settings.landmarks
        meter = Meter("landmarks", total)
        while True:
            rows = self.store.photos_needing_landmarks(key, clip_key)
            if not len(rows.photo_ids):
                break
            ids = rows.photo_ids.tolist()
            labels = label_photos(head, rows.matrix.astype(np.float32), ids, self.store.gps(ids), lm.threshold,
                                  lm.max_km, lm.top_k)
            with _writing():
                self.store.set_landmarks(labels, key)
            summary.landmarks += sum(1 for _, name, _, _ in labels if name)
            yield meter.step(len(ids))
        summary.seconds["landmarks"] = meter.elapsed

    # ---- second pass: parts -------------------------------------------------------------------

    def parts_pass(self, summary: Summary) -> Iterator[Event]:
        det_on, ocr_on = self.settings.detection.enabled, self.settings.ocr.enabled
        key = self.models.parts_key()
        todo = self.store.photos_needing_parts(key)
        if not todo:
            return
        clip = self.models.clip
        detector = self.models.detector if det_on else None
        ocr = self.models.ocr if ocr_on else None
        for m in (clip, detector, ocr):
            if m is not None:
                m.load()
        gate = OcrGate(clip, self.store, self.settings.ocr.gate_margin) if ocr and self.settings.ocr.gate == "clip" else None
        dec, det = self.settings.decode, self.settings.detection
        canvas = max(det.canvas if det_on else 0, self.settings.ocr.canvas if ocr_on else 0, clip.image_size)
        meter = Meter("parts", len(todo))

        def work(item: tuple[int, str]) -> Image.Image | None:
            try:
                return decode(read_file(item[1], dec.max_file_bytes), dec.max_pixels, max_side=canvas).image
            except SkipError:
                return None  # the next scan of its folder records why

        group = 4  # photos through the detector together
        for chunk in _chunks(bounded_map(work, todo, self.settings.embed.workers, ahead=group * 2), group):
            live = [(pid, im) for (pid, _), im in chunk if im is not None]
            images = [im for _, im in live]
            dets = detector.detect([_fit(im, det.canvas) for im in images]) if detector else [[] for _ in live]
            results: list[list[NewPart]] = []
            crops: list[Image.Image] = []
            owners: list[tuple[int, NewPart]] = []
            for i, ((pid, im), found) in enumerate(zip(live, dets, strict=True)):
                kept = [d for d in found if det.min_area <= _area(d.box) <= det.max_area][: det.max_parts]
                results.append([])
                for d in kept:
                    part = NewPart(d.type, np.zeros(0), Modality.IMAGE.value, d.box, d.score, d.label)
                    crops.append(_crop(im, d.box))
                    owners.append((i, part))
                if ocr is not None and (gate is None or gate.wants(pid)):
                    summary.ocr_run += 1
                    for region in ocr.read(im):
                        results[i].append(NewPart(PartType.TEXT.value, np.zeros(0), Modality.TEXT.value,
                                                  region.box, region.confidence, None, region.text))
            if crops:
                vecs = clip.embed_images(crops, mode="pad")
                for (i, part), v in zip(owners, vecs, strict=True):
                    part.vector = v
                    results[i].append(part)
            texts = [p for r in results for p in r if p.type == PartType.TEXT.value]
            if texts:
                for p, v in zip(texts, clip.embed_texts([p.text or "" for p in texts]), strict=True):
                    p.vector = v
            done = []
            with _writing():
                for (pid, _), parts in zip(live, results, strict=True):
                    parts.sort(key=lambda p: p.type != PartType.TEXT.value)
                    if self.store.replace_parts(pid, parts, clip.key, key):
                        done.append(pid)
                        summary.parts_found += sum(p.type != PartType.TEXT.value for p in parts)
                        summary.text_found += sum(p.type == PartType.TEXT.value for p in parts)
            summary.parts_done += len(done)
            if done:
                yield Stored("parts", done)
            yield meter.step(len(chunk), chunk[-1][0][1])
        summary.seconds["parts"] = meter.elapsed


def _info(h: str, size: int, d: Decoded) -> PhotoInfo:
    m = d.meta
    return PhotoInfo(hash=h, size=size, format=m.format, width=m.width, height=m.height, taken_at=m.taken_at,
                     camera_make=m.camera_make, camera_model=m.camera_model, gps_lat=m.gps_lat, gps_lon=m.gps_lon)


def _area(box: tuple[float, float, float, float]) -> float:
    return max(0.0, box[2] - box[0]) * max(0.0, box[3] - box[1])


def _crop(im: Image.Image, box: tuple[float, float, float, float]) -> Image.Image:
    w, h = im.size
    x0, y0 = int(box[0] * w), int(box[1] * h)
    x1, y1 = max(x0 + 1, int(round(box[2] * w))), max(y0 + 1, int(round(box[3] * h)))
    return im.crop((x0, y0, x1, y1))


def _fit(im: Image.Image, side: int) -> Image.Image:
    if max(im.size) <= side:
        return im
    s = side / max(im.size)
    return im.resize((max(1, round(im.width * s)), max(1, round(im.height * s))), Image.Resampling.BILINEAR)


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)


def _chunks(it: Iterator[T], n: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for x in it:
        chunk.append(x)
        if len(chunk) >= n:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@contextmanager
def _writing() -> Iterator[None]:
    """Turn a failed write (full disk, locked or damaged database) into one clear message."""
    try:
        yield
    except SQLAlchemyError as e:
        orig = getattr(e, "orig", e)
        raise LibraryError(f"Could not write to the library database: {orig}. Everything stored before "
                           "this point is kept; free some space or fix the problem and run the command again.") from e

