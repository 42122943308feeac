"""Indexing: scan the folders, store every new photo with its whole-photo embedding (searchable
at once), then find and embed its parts. Both passes resume where a killed run stopped."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass
from typing import TypeVar

import numpy as np
from PIL import Image

from organizer.errors import BadArgumentError, ModelUnavailableError
from organizer.fsutil import chunked
from organizer.landmarks.head import head_steps, labels_key
from organizer.landmarks.labeller import label_photos
from organizer.media.decode import SkipError, SkipReason, hash_file, load
from organizer.media.lookahead import bounded_map
from organizer.media.pairs import MOTION_ROLE, RAW_ROLE, by_content_id, partners, role_of
from organizer.media.scan import FileEntry, ScanProblem, walk
from organizer.models.clip import prepare
from organizer.models.registry import ModelSet
from organizer.parts import Modality, PartType
from organizer.paths import display, resolve
from organizer.pipeline.extractors import extractors
from organizer.pipeline.faces import Faces
from organizer.pipeline.frames import Frames
from organizer.pipeline.rehash import forget_reread, rehash, unchanged_elsewhere
from organizer.pipeline.rereading import Changed, Scenes, changed_entries, crop, reader
from organizer.progress import Event, Meter, Notice, Progress, Skipped, Stored, Summary
from organizer.settings import Settings
from organizer.store.db import TRANSIENT_REASONS as TRANSIENT
from organizer.store.db import FileRef, NewPart, NewPhoto, PhotoInfo, Store
from organizer.wording import plural

T = TypeVar("T")
PENDING = "pending_roots"  # meta key: roots whose scan has not finished (`index` with no paths resumes them)
# Photos through the parts pass together: their objects' crops go through CLIP in one batch, and CLIP's image
# tower costs 56 ms a crop at batch 12 but 43 ms from batch 24 on (ONNX fp32, 2 cores)
PARTS_GROUP = 8
ROUNDS = 3  # a pass that found files changed under it runs again for their new photos, at most this often


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
        self._failed: set[int] = set()  # photos a pass of this run could not read (counted once)
        self.faces = Faces(store, models, settings, self._newly_failed)

    def _newly_failed(self, photo_ids: list[int]) -> int:
        new = set(photo_ids) - self._failed
        self._failed |= new
        return len(new)

    # ---- the whole run ------------------------------------------------------------------------

    def run(self, roots: Sequence[str | os.PathLike[str]], parts: bool = True) -> Iterator[Event]:
        """Index ``roots`` (folders or files); none: finish what an interrupted run left, scan included.
        A generator: stop iterating to cancel."""
        summary = Summary()
        wanted = [resolve(r) for r in roots]
        pending = self.pending_roots()
        if wanted:  # kept until their scan completes: `index` with no paths resumes them
            self._set_pending(sorted(set(pending) | {w for w in wanted if os.path.exists(w)}))
        elif pending:
            yield Notice("Resuming the scan of " + ", ".join(display(p) for p in pending) + ".")
            wanted = pending
        if wanted:
            yield from self.scan_and_store(wanted, summary, explicit=bool(roots))
            self._set_pending([p for p in self.pending_roots() if p not in wanted])
        yield from self.reembed(summary)
        yield from Frames(self.store, self.models, self.settings).run(summary)
        yield from self.places_pass(summary)
        if self.settings.landmarks.enabled:
            yield from self.landmark_pass(summary)
        if parts:
            yield from self.parts_pass(summary)
            yield from self.faces_pass(summary)
        yield summary

    # ---- roots a run has not finished scanning ------------------------------------------------

    def pending_roots(self) -> list[str]:
        try:
            roots = json.loads(self.store.get_meta(PENDING, "[]") or "[]")
        except ValueError:
            return []
        return [r for r in roots if isinstance(r, str)] if isinstance(roots, list) else []

    def _set_pending(self, roots: list[str]) -> None:
        self.store.set_meta(PENDING, json.dumps(roots))

    def clear_pending(self) -> None:
        self._set_pending([])

    # ---- scan + first pass --------------------------------------------------------------------

    def scan_and_store(self, roots: Sequence[str], summary: Summary, explicit: bool = True) -> Iterator[Event]:
        existing = [r for r in roots if os.path.exists(r)]
        for r in roots:
            if r not in existing:
                summary.offline.append(r)
                yield Notice(f"Not found: {display(r)} (an unplugged drive or a moved folder?). Its photos stay "
                             "in the library, shown as missing until it is back.")
        if not existing:
            if explicit:
                raise BadArgumentError("None of the given folders or files exist: " + ", ".join(map(display, roots)))
            return
        meter = Meter("scan", 0)
        known = self.store.known_files(existing)
        skipped = self.store.skipped_files(existing)
        due, found = self.store.rehash_due(), {}  # files an upgrade listed to be read again
        entries: list[FileEntry] = []
        seen: set[str] = set()
        problems: list[ScanProblem] = []
        per_root = dict.fromkeys(existing, 0)
        for e in walk(existing, exclude=[str(self.store.folder)], on_problem=problems.append,
                      links=self.settings.scan.follow_links):
            seen.add(e.path)
            if e.path in due:
                found[e.path] = e
            summary.scanned += 1
            for r in per_root:
                if _under(e.path, r):
                    per_root[r] += 1
            k, sk = known.get(e.path), skipped.get(e.path)
            if sk is not None and (sk.size, sk.mtime_ns) == (e.size, e.mtime_ns) and sk.reason not in TRANSIENT:
                summary.unchanged += 1  # the same file that could not be read last time
            elif k is not None and (k.size, k.mtime_ns) == (e.size, e.mtime_ns) and sk is None:
                summary.unchanged += 1
            else:
                entries.append(e)
            if summary.scanned % 500 == 0:
                yield Progress("scan", summary.scanned, 0, e.path, summary.scanned / max(meter.elapsed, 1e-9))
        # Places the walk could not look into: what the library holds there is not "gone".
        blind = [p.path for p in problems if p.what == "folder"]
        for r, n in per_root.items():
            if n == 0 and os.path.isdir(r) and any(_under(p, r) for p in known) and r not in blind:
                blind.append(r)  # an empty mount point where a drive was
        for r in blind:
            if any(_under(p, r) for p in known):
                summary.offline.append(r)
                yield Notice(f"Offline: {display(r)} is empty or cannot be listed, but the library holds photos "
                             "from it; they stay, shown as missing until it can be read again.")
            elif r not in existing:
                yield Notice(f"Could not list {display(r)}: " + next(p.detail for p in problems if p.path == r))
        for p in problems:
            if p.what == "link":
                yield Notice(f"Not followed: {display(p.path)}, {display(p.detail)}.")
        file_problems = [p for p in problems if p.what == "file"]
        summary.scanned += len(file_problems)  # looked at, and skipped below with the reason
        summary.seconds["scan"] = meter.elapsed
        yield Progress("scan", summary.scanned, summary.scanned, None, summary.scanned / max(meter.elapsed, 1e-9), 0)
        back = [p for p, k in known.items() if k.missing and p in seen]
        if back:
            summary.restored += self.store.mark_present(back)
        if due:  # those elsewhere too: a later pass may read any photo
            found |= unchanged_elsewhere(self.store, [p for p in due if p not in found
                                                      and not any(_under(p, r) for r in existing)])
        if found:
            yield from rehash(self.store, self.settings, due, found, entries)
        if entries:
            # a RAW or a motion clip beside the still of the same shot is a file of the still's photo, linked once
            # that is stored
            present = [*(e.path for e in entries), *(p for p, k in known.items() if not k.missing)]
            stills = partners([e.path for e in entries if role_of(e.path)], present)
            loose = [e.path for e in entries if role_of(e.path) == MOTION_ROLE and e.path not in stills]
            if loose:  # Live Photos renamed apart: by Apple's content identifier
                stills |= by_content_id(loose, present, {s for c, s in stills.items() if role_of(c) == MOTION_ROLE})
            yield from self._store_new([e for e in entries if e.path not in stills], summary)
            if stills:
                yield from self._store_pairs([e for e in entries if e.path in stills], stills, summary)
            if found:
                forget_reread(self.store, due, found)
        if file_problems:
            self.store.record_skips([(FileRef(p.path, 0, 0), p.reason or SkipReason.UNREADABLE.value, p.detail)
                                     for p in file_problems])
            for p in file_problems:
                summary.skipped += 1
                yield Skipped(p.path, p.reason or SkipReason.UNREADABLE.value, p.detail)
        looked = [p for p in known if p not in seen and not any(_under(p, b) for b in blind)]
        unstatted = {fp.path for fp in file_problems}
        looked = [p for p in looked if p not in unstatted]
        if looked:  # after the new paths, so that a moved photo keeps its analysis
            missing, moved = self.store.mark_missing(looked)
            summary.missing_paths += missing
            summary.removed_paths += moved
        gone_skips = [p for p in skipped if p not in seen and not any(_under(p, b) for b in blind)]
        if gone_skips:
            self.store.forget_skips(gone_skips)

    def _store_new(self, entries: list[FileEntry], summary: Summary) -> Iterator[Event]:
        clip = self.models.clip
        if not clip.is_loaded:
            yield Progress("models", 0, 0, "CLIP")  # said before the wait, not after
        clip.load()
        size = clip.image_size
        known_hashes = self.store.all_hashes()
        dec = self.settings.decode

        def work(e: FileEntry) -> _Read:
            try:
                r = load(e.path, dec, min_side=size, known=known_hashes)
                if r.decoded is None:
                    return _Read(hash=r.hash, known=True)
                return _Read(hash=r.hash, pixels=prepare(r.image, size, "crop"), info=PhotoInfo.of(r.hash, r.size, r.decoded.meta))
            except SkipError as err:
                return _Read(error=err)
            except Exception as err:  # noqa: BLE001 - one odd file never ends a run
                return _Read(error=SkipError(SkipReason.TRUNCATED, f"{type(err).__name__}: {err}"))

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

    def _store_pairs(self, files: list[FileEntry], stills: dict[str, str], summary: Summary) -> Iterator[Event]:
        """Keep each RAW or motion clip with its still's photo (hashed in a stream, not decoded); one whose still
        is not in the library (it could not be read) is indexed as an item of its own."""
        dec = self.settings.decode

        def work(e: FileEntry) -> tuple[str | None, SkipError | None]:
            try:
                return hash_file(e.path, dec.max_video_bytes, dec.read_stall_seconds)[0], None
            except SkipError as err:
                return None, err

        items, skips = [], []
        for e, (h, err) in bounded_map(work, files, self.settings.embed.workers, ahead=4):
            ref = FileRef(e.path, e.size, e.mtime_ns)
            if h is None:
                assert err is not None
                skips.append((ref, err.reason.value, err.detail))
                summary.skipped += 1
                yield Skipped(e.path, err.reason.value, err.detail)
            else:
                items.append((ref, h, role_of(e.path) or RAW_ROLE, stills[e.path]))
        if skips:
            self.store.record_skips(skips)
        alone = {f.path for f in self.store.link_companions(items)} if items else set()
        summary.paired += len(items) - len(alone)
        if alone:
            yield from self._store_new([e for e in files if e.path in alone], summary)

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
        expect = self.store.expected_hashes((pid, path) for pid, _, path in todo)

        def work(item: tuple[int, int, str]) -> np.ndarray | Changed | None:
            try:
                r = load(item[2], dec, min_side=size)
            except Exception:  # noqa: BLE001 - recorded as failed for this model, retried when seen again
                return None
            if r.hash != expect.get(item[2], r.hash):
                return Changed.of(item[2])
            return prepare(r.image, size, "crop")

        rows: list[tuple[int, np.ndarray]] = []
        changed: list[FileEntry] = []
        for chunk in chunked(bounded_map(work, todo, self.settings.embed.workers, self.settings.embed.batch_size * 2),
                             self.settings.embed.batch_size):
            changed += changed_entries(chunk)
            ok = [(item, px) for item, px in chunk if isinstance(px, np.ndarray)]
            failed = [item[0] for item, px in chunk if px is None]
            if failed:
                self.store.mark_failed(failed, whole=clip.key)
                summary.failed += self._newly_failed(failed)
            if ok:
                vecs = clip.embed_pixels(np.stack([px for _, px in ok]))
                rows = [(item[1], v) for (item, _), v in zip(ok, vecs, strict=True)]
                self.store.set_whole_vectors(rows, clip.key)
                summary.reembedded += len(rows)
                yield Stored("whole", [item[0] for item, _ in ok])
            yield meter.step(len(chunk), chunk[-1][0][2])
        yield from self._changed_files(changed, summary)

    # ---- places, from the GPS (no decoding) ---------------------------------------------------

    def places_pass(self, summary: Summary) -> Iterator[Event]:
        """Name where photos with GPS were taken (offline), so that the place is shown and searchable."""
        from organizer.media import places

        if not places.available():
            return
        while rows := self.store.gps_points(unplaced=True, limit=5000):
            found = places.places([(lat, lon) for _, lat, lon in rows])
            self.store.set_places([(pid, p.name if p else "", p.words if p else "")
                                   for (pid, _, _), p in zip(rows, found, strict=True)])
            summary.places += sum(p is not None for p in found)
            yield Stored("places", [pid for pid, _, _ in rows])

    # ---- landmarks, from the whole-photo vectors (no decoding) ---------------------------------

    def landmark_pass(self, summary: Summary) -> Iterator[Event]:
        started = time.perf_counter()  # the seconds include building the head, where it is built
        head = yield from head_steps(self.settings.landmarks, self.settings.library, self.models.clip)
        key, clip_key = labels_key(head, self.settings.landmarks), self.models.clip.key
        total = self.store.count_needing_landmarks(key, clip_key)
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
            self.store.set_landmarks(labels, key)
            summary.landmarks += sum(1 for _, name, _, _ in labels if name)
            yield meter.step(len(ids))
        summary.seconds["landmarks"] = time.perf_counter() - started

    # ---- second pass: parts -------------------------------------------------------------------

    def parts_pass(self, summary: Summary) -> Iterator[Event]:
        """Objects and text of each photo (and its faces, where the same decode serves). A file that is no
        longer the photo it was indexed as (replaced under the same name) is indexed again as what it is now,
        and that photo gets its parts in a second round."""
        for _ in range(ROUNDS):
            changed = yield from self._parts_round(summary)
            if not changed:
                return
            yield from self._changed_files(changed, summary)

    def _changed_files(self, changed: list[FileEntry], summary: Summary) -> Iterator[Event]:
        """Files a later pass found changed since they were indexed: identified again by their content now (a
        new photo, or a photo the library has), as a scan would have."""
        if not changed:
            return
        yield Notice(f"{plural(len(changed), 'file')} changed since {'it was' if len(changed) == 1 else 'they were'} "
                     "indexed (replaced under the same name?); indexed again as what they hold now.")
        yield from self._store_new(changed, summary)

    def _parts_round(self, summary: Summary) -> Generator[Event, None, list[FileEntry]]:
        key = self.models.parts_key()
        todo = self.store.photos_needing_parts(key)
        if not todo:
            return []
        clip = self.models.clip
        found_by = extractors(self.models, self.settings, self.store)
        for name, m in [("CLIP", clip), *((x.name, x.model) for x in found_by)]:
            if not m.is_loaded:
                yield Progress("models", 0, 0, name)
                m.load()
        for x in found_by:
            x.prepare()
        canvas = max([clip.image_size, *(x.canvas for x in found_by)])
        # faces from the same decoded photo where the faces pass would decode it at this size: one decode of a
        # 12 MP photo saved (about 0.1 s of a core each); photos left over go through the faces pass
        faces_key, faces_due = self.faces.due_at(canvas)
        if faces_due and not self.models.face.is_loaded:
            yield Progress("models", 0, 0, "faces")
            try:
                self.models.face.load()
            except ModelUnavailableError:
                faces_key, faces_due = None, set()  # the faces pass says why, after the parts are stored
        meter = Meter("parts", len(todo))
        work = reader(self.settings.decode, canvas, self.store.expected_hashes(todo), scenes=True)
        changed: list[FileEntry] = []

        group = PARTS_GROUP
        for chunk in chunked(bounded_map(work, todo, self.settings.embed.workers, ahead=group * 2), group):
            changed += changed_entries(chunk)
            # each picture searched: a photo, or a video's poster and later scenes (their parts at their time)
            seen: list[tuple[int, Image.Image, float | None]] = [
                (pid, im, None) for (pid, _), im in chunk if isinstance(im, Image.Image)]
            seen += [(pid, im, t) for (pid, _), got in chunk if isinstance(got, Scenes) for t, im in got.frames]
            live = [(pid, im) for pid, im, _ in seen]
            failed = [pid for (pid, _), im in chunk if im is None]
            if failed:
                self.store.mark_failed(failed, parts=key)
                summary.failed += self._newly_failed(failed)
            found: list[list[NewPart]] = [[] for _ in live]
            for x in found_by:
                for mine, theirs in zip(found, x.extract(live, summary), strict=True):
                    mine += theirs
            self._embed_parts(live, found)
            pictures: dict[int, Image.Image] = {}
            per_photo: dict[int, list[NewPart]] = {}
            for (pid, im, at), parts in zip(seen, found, strict=True):
                for p in parts:
                    p.at_seconds = at
                per_photo.setdefault(pid, []).extend(parts)
                if at is None:
                    pictures[pid] = im
            done, with_faces = [], []
            for pid, parts in per_photo.items():
                im = pictures[pid]
                parts.sort(key=lambda p: p.type != PartType.TEXT.value)
                if self.store.replace_parts(pid, parts, clip.key, key):
                    done.append(pid)
                    summary.parts_found += sum(p.type != PartType.TEXT.value for p in parts)
                    summary.text_found += sum(p.type == PartType.TEXT.value for p in parts)
                    if faces_key is not None and pid in faces_due:
                        people = [p.box for p in parts if p.type == PartType.PERSON.value]
                        faces = self.faces.find(im, people)
                        if self.store.replace_faces(pid, faces, faces_key):
                            with_faces.append(pid)
                            summary.faces_found += len(faces)
            summary.parts_done += len(done)
            summary.faces_done += len(with_faces)
            if done:
                yield Stored("parts", done)
            if with_faces:
                yield Stored("faces", with_faces)
            yield meter.step(len(chunk), chunk[-1][0][1])
        summary.seconds["parts"] = summary.seconds.get("parts", 0.0) + meter.elapsed
        return changed

    def _embed_parts(self, live: Sequence[tuple[int, Image.Image]], results: list[list[NewPart]]) -> None:
        """Vectors for the group's parts: image parts cropped and through CLIP's image tower in one batch, text
        parts through its text tower in another."""
        clip = self.models.clip
        crops = [(p, crop(im, p.box)) for (_, im), parts in zip(live, results, strict=True) for p in parts
                 if p.modality == Modality.IMAGE.value]
        if crops:
            for (p, _), v in zip(crops, clip.embed_images([c for _, c in crops], mode="pad"), strict=True):
                p.vector = v
        texts = [p for parts in results for p in parts if p.modality == Modality.TEXT.value]
        if texts:
            for p, v in zip(texts, clip.embed_texts([p.text or "" for p in texts]), strict=True):
                p.vector = v

    # ---- third pass: faces, inside the person boxes the parts pass found -------------------------

    def faces_pass(self, summary: Summary) -> Iterator[Event]:
        """Find and describe faces: inside the detector's person boxes (padded) and, only where the photo has
        none, in the whole photo. Its own pass and key, so that switching faces on costs no detection or OCR.
        A file changed since it was indexed is indexed again, and its new photo gets its parts and faces."""
        for _ in range(ROUNDS):
            changed = yield from self.faces.round(summary)
            if not changed:
                return
            yield from self._changed_files(changed, summary)
            yield from self.parts_pass(summary)


def _under(path: str, root: str) -> bool:
    return path == root or path.startswith(root.rstrip(os.sep) + os.sep)
