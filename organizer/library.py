"""The library as the CLI and the GUI see it: one object over the store, the models, indexing and search."""

from __future__ import annotations

import dataclasses
import errno
import json
import logging
import logging.handlers
import os
import time
import warnings
from collections.abc import Callable, Iterable, Iterator, Sequence
from datetime import datetime, timedelta
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from filelock import FileLock, Timeout

from organizer.errors import BadArgumentError
from organizer.models.registry import ModelSet
from organizer.paths import normalise, resolve
from organizer.pipeline.indexer import Indexer
from organizer.progress import Event, Notice, Progress
from organizer.search.engine import PhotoMatch, Searcher, SearchQuery
from organizer.settings import Settings
from organizer.store import backup, sessions
from organizer.store.db import DB_NAME, Store
from organizer.store.records import CheckReport, LibraryStatus, PhotoDetails, PhotoRow

if TYPE_CHECKING:  # imported where first used: a status or a search need neither
    from organizer.models.clip import ClipModel
    from organizer.people.people import People
    from organizer.store.labels import LabelStore

UNDO_KEY = "undo_journal"  # meta key: the newest labels and people actions, with what they changed
UNDO_KEEP = 20
T = TypeVar("T")
WRITE_LOCK = "index.lock"  # held by a process while it indexes: a second indexer waits for it
LOG_FILE = "organizer.log"  # in the library's logs/: decoder warnings and other details


class Library:
    def __init__(self, settings: Settings, read_only: bool = False, create: bool = True) -> None:
        """Open the library of ``settings``; ``create`` False refuses a folder that holds none (commands that
        only read). While it is open, ``restore`` is refused (see :func:`restore`)."""
        self.settings = settings
        self.store = Store(settings.library, read_only=read_only, create=create)
        self.models = ModelSet(settings)
        self._int8_by_verdict()
        self._session = sessions.enter(self.store.folder) if not self.store.read_only else None
        if not self.store.read_only:
            _log_to(self.store.folder / "logs" / LOG_FILE)

    def close(self) -> None:
        try:
            if not self.store.read_only:
                self.store.maybe_backup()
        except Exception:  # noqa: BLE001 - closing never fails; status and the window say the backup failed
            logging.getLogger("organizer").exception("backup at close failed")
        self.store.close()
        if self._session is not None:
            self._session.leave()
            self._session = None

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

    def _int8_by_verdict(self) -> None:
        """``--precision auto`` on the ONNX path: int8 where this library's check accepted it."""
        from organizer.pipeline import precision_check as pc

        if not pc.applies(self.settings):
            return
        verdict = pc.stored(self.store)
        if verdict and verdict.get("int8") and verdict.get("space") == self.models.clip.key:
            self._use_precision("int8")

    def _use_precision(self, precision: str) -> None:
        self.models = ModelSet(self._with_precision(precision))
        for name in ("searcher",):  # built on the old model: built again on first use
            self.__dict__.pop(name, None)

    def precision_verdict(self) -> dict[str, Any] | None:
        """The int8 check's verdict for this library (None: not made)."""
        from organizer.pipeline import precision_check as pc

        return pc.stored(self.store)

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

    def _with_precision(self, precision: str) -> Settings:
        settings = self.settings.model_copy(deep=True)
        settings.models.precision = precision  # type: ignore[assignment]
        return settings

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

    @cached_property
    def searcher(self) -> Searcher:
        return Searcher(self.store, self.models.clip, self.settings, people=self.people)

    @cached_property
    def people(self) -> People:
        """Faces grouped by person; named people are labels."""
        from organizer.people.people import People

        return People(self.store, self.labels, self.face_space, self.settings)

    def face_space(self) -> str | None:
        """The face descriptors' vector space of the face weights in use (None without weights). People are
        shown from the faces found with them even while the faces pass is switched off."""
        try:
            return self.models.face.key
        except OSError:
            return None

    def search(self, query: SearchQuery) -> list[PhotoMatch]:
        return self.searcher.search(query)

    def suggest(self, label: str, top_k: int = 20) -> list[PhotoMatch]:
        """Photos not yet in ``label`` that look most like it."""
        return self.searcher.suggest(label, top_k)

    # ---- the models, for the shells -----------------------------------------------------------

    @property
    def clip(self) -> ClipModel:
        """The CLIP model in use (training and fine-tuning take it)."""
        return self.models.clip

    def embedding_space(self) -> str:
        """The key of the vector space searches run in (the JSON output names it)."""
        return self.models.clip.key

    def search_model_loaded(self) -> bool:
        return self.models.clip.is_loaded

    def load_search_model(self) -> None:
        """Load CLIP now (the window's warm-up), so that the first search does not wait for it."""
        self.models.clip.load()

    def faces_off(self) -> str | None:
        """Why faces are not found (switched off, dlib or the weights missing); None when they are."""
        return self.models.faces_off()

    def clusters(self, mode: str = "whole", force: bool = False) -> Iterator[Any]:
        """Progress events, then a ClusterResult (reused when the embeddings did not change)."""
        from organizer.analysis.clusters import Clusterer

        return Clusterer(self.store, self.models.clip, self.settings).run(mode, force)

    def project(self, mode: str = "whole", force: bool = False) -> Iterator[Any]:
        """Progress events, then a ProjectionResult (reused when the embeddings did not change)."""
        from organizer.analysis.projection import Projector

        return Projector(self.store, self.models.clip, self.settings).run(mode, force)

    @cached_property
    def labels(self) -> LabelStore:
        """The user's labels (people are labels too)."""
        from organizer.store.labels import LabelStore

        return LabelStore(self.store)

    def apply_settings(self, new: Settings) -> list[str]:
        """Take changed settings at once where they can be (thresholds, clusters, projection, search,
        landmarks, detection and OCR options: the next run or query uses them); returns the settings that
        need a restart (the library folder, the models)."""
        later = []
        if Path(new.library) != Path(self.settings.library):
            later.append("library folder")
        if new.models != self.settings.models:
            later.append("models")
        for section in ("scan", "decode", "embed", "detection", "ocr", "faces", "search", "clusters", "projection",
                        "landmarks"):
            setattr(self.settings, section, getattr(new, section).model_copy(deep=True))
        return later

    # ---- landmarks --------------------------------------------------------------------------

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

    # ---- removing photos: only ever asked for ----------------------------------------------

    def paths_to_forget(self, folders: Sequence[str]) -> list[str]:
        """The indexed and skipped paths at or under each of ``folders`` (given as typed, or with links
        resolved); nothing for an empty or blank argument, which is refused."""
        paths: list[str] = []
        for f in folders:
            if not str(f).strip():
                raise BadArgumentError("An empty path names no folder or file; give the folder or file to forget")
            for form in dict.fromkeys((normalise(f), resolve(f))):
                indexed, skipped = self.store.paths_under(form)
                paths += indexed + skipped
        return list(dict.fromkeys(paths))

    def photos_under(self, paths: Sequence[str]) -> int:
        """How many photos would leave the library if ``paths`` were forgotten."""
        known = self.store.known_files()
        gone = set(paths)
        owners = {known[p].photo_id for p in paths if p in known}
        kept = {k.photo_id for p, k in known.items() if p not in gone}
        return len(owners - kept)

    def forget(self, folders: Sequence[str]) -> tuple[int, int]:
        """Remove the photos under folders (or single files) from the library, after a backup: (paths, photos)
        removed."""
        paths = self.paths_to_forget(folders)
        if not paths:
            raise BadArgumentError("Nothing in the library is under " + ", ".join(normalise(f) for f in folders))
        self.store.backup("before-forget")  # their labels and people stay in a backup
        photos, _members = self.store.remove_paths(paths)
        return len(paths), photos

    def offline_folders(self) -> list[tuple[str, int]]:
        """Folders the library has photos in that are not there now (an unplugged drive, a moved or deleted
        folder), each the topmost one gone, with how many photos it held; most photos first. Cheap: one
        check per folder, not per file."""
        gone: dict[str, int] = {}
        for folder, n in self.store.parent_folders().items():
            if os.path.isdir(folder):
                continue
            top = folder
            while True:
                parent = os.path.dirname(top)
                if parent == top or os.path.isdir(parent):
                    break
                top = parent
            gone[top] = gone.get(top, 0) + n
        return sorted(gone.items(), key=lambda kv: (-kv[1], kv[0]))

    def relocate(self, old: str, new: str) -> int:
        """A folder now lives elsewhere: its photos point at their files under ``new`` (those found there),
        keeping their analysis and labels. Returns the files found."""
        if not str(old).strip() or not str(new).strip():
            raise BadArgumentError("An empty path names no folder; give where the folder was and where it is now")
        old, new = normalise(old), resolve(new)
        if not os.path.isdir(new):
            raise BadArgumentError(f"{new} is not a folder")
        indexed, _ = self.store.paths_under(old)
        moves = [(p, os.path.join(new, os.path.relpath(p, old))) for p in indexed]
        found = [(a, b) for a, b in moves if os.path.isfile(b)]
        if not found:
            raise BadArgumentError(f"None of the {len(indexed)} files from {old} are in {new}")
        return self.store.relocate(found)

    def remove_photos(self, photo_ids: Sequence[int]) -> tuple[int, str]:
        """Take photos out of the library (not off the disk), undoably: (photos removed, undo token)."""
        if not photo_ids:
            raise BadArgumentError("No photos chosen")
        return self.store.undoable_remove(photo_ids)

    def undo_remove(self, token: str) -> int:
        """Bring back photos :meth:`remove_photos` took out; returns how many."""
        return len(self.store.undo_remove(token))

    def prune_missing(self, older_than_days: float | None = None, dry_run: bool = False) -> tuple[int, int]:
        """Forget files that scans have not found (for at least ``older_than_days``): (paths, photos)."""
        cutoff = datetime.now() - timedelta(days=older_than_days) if older_than_days is not None else None
        paths = self.store.missing_paths(cutoff)
        if dry_run or not paths:
            return len(paths), self.photos_under(paths) if paths else 0
        self.store.backup("before-prune")
        photos, _ = self.store.remove_paths(paths)
        return len(paths), photos

    # ---- resume, checks, backups -------------------------------------------------------------

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

    def check(self) -> CheckReport:
        return self.store.check()

    def backup(self, reason: str = "manual") -> Path:
        return self.store.backup(reason)

    def backups(self) -> list[Path]:
        return backups_of(self.store.folder)

    # ---- what the shells show --------------------------------------------------------------

    @property
    def folder(self) -> Path:
        """The library folder (database, backups, thumbnails, logs)."""
        return self.store.folder

    def photo_rows(self, order: str = "date", landmark: str | None = None,
                   photo_ids: Sequence[int] | None = None) -> list[PhotoRow]:
        """Gallery rows of every photo, of one landmark's, or of some: by date taken ("date": oldest first;
        "newest": newest first; undated last) or by path."""
        return self.store.photo_list(order, landmark=landmark, photo_ids=photo_ids)

    def change_stamp(self) -> tuple[int, int, int]:
        """Changes whenever photos are added or removed, by this process or another: (photos, highest photo id,
        removals)."""
        return self.store.change_stamp()

    def photo_count(self) -> int:
        return self.store.counts()[0]

    def missing_count(self) -> int:
        """Photos none of whose files the last scans found."""
        return self.store.counts()[1]

    def problem_counts(self) -> tuple[int, int]:
        """(files skipped, photos missing): what the library page offers to list."""
        return self.store.skipped_count(), self.missing_count()

    def problem_files(self, limit: int = 2000) -> tuple[list[Any], list[str]]:
        """The skipped files with their reasons, and the missing files (at most ``limit`` of each)."""
        return self.store.skipped_list(limit), self.store.missing_paths()[:limit]

    def first_paths(self, photo_ids: Iterable[int]) -> dict[int, str]:
        """The file to show for each photo (a present one where it has any)."""
        return {pid: r.paths[0] for pid, r in self.store.photos(photo_ids).items() if r.paths}

    def gps_points(self) -> list[tuple[int, float, float]]:
        """(photo id, latitude, longitude) of every photo with GPS, for the map of places."""
        return self.store.gps_points()

    def part_photos(self, part_ids: Iterable[int]) -> dict[int, int]:
        """The photo of each part (a face, say)."""
        return {p: r.photo_id for p, r in self.store.parts(part_ids).items()}

    def landmarks_unchecked(self) -> int:
        """Photos not yet checked for landmarks (they are, while indexing)."""
        return self.store.count_landmarks_unchecked()

    def landmark_counts(self) -> list[tuple[str, int]]:
        """Landmarks shown in the library, with how many photos show each, most first."""
        return self.store.landmark_counts()

    def label_photo_ids(self, name: str) -> list[int]:
        """The photos a label holds (through a whole photo or one of its parts)."""
        positive, _ = self.labels.members(name)
        return sorted({p.photo_id for p in self.store.parts(positive).values()})

    def label_parts_of(self, name: str, photo_ids: Sequence[int]) -> list[int]:
        """The parts through which these photos are in a label (the whole photo, an object, a face)."""
        positive, _ = self.labels.members(name)
        wanted = set(photo_ids)
        return [p for p, r in self.store.parts(positive).items() if r.photo_id in wanted]

    def label_has_concept(self, name: str) -> bool:
        """Whether a label holds photos or objects in CLIP's space (it can suggest more); a person's label holds
        faces, which the People page suggests for."""
        from organizer.parts import FACE

        positive, _ = self.labels.members(name)
        return any(r.type != FACE for r in self.store.parts(positive).values())

    def label_photos(self, name: str, photo_ids: Sequence[int], positive: bool = True) -> int:
        """Put whole photos in a label (or, ``positive`` False, reject them from it); returns how many were new."""
        return self.labels.add(name, self.labels.whole_parts(photo_ids), positive=positive)

    def label_parts(self, name: str, part_ids: Sequence[int]) -> int:
        """Put parts in a label; a face is taken out of whoever it was named before (a face shows one person)."""
        from organizer.parts import FACE

        known = self.labels.known_parts(part_ids)
        rows = self.store.parts(known)
        faces = [p for p in known if rows[p].type == FACE]
        others = [p for p in known if rows[p].type != FACE]
        return (self.labels.assign(name, faces) if faces else 0) + (self.labels.add(name, others) if others else 0)

    # ---- undo for what people curate (labels and people) --------------------------------------

    def curate(self, what: str, parts: Sequence[int], action: Callable[[], T]) -> T:
        """Run a labels or people ``action`` that may change the memberships of ``parts`` (and make or drop
        labels), undoably: what those parts belonged to is kept in the library (the newest
        :data:`UNDO_KEEP` actions), and :meth:`undo` puts it back, from the window or `organizer undo`."""
        rows, names = self.labels.snapshot(list(parts))
        result = action()
        journal = self._undo_journal()
        journal.append({"what": what, "parts": sorted(set(parts)), "rows": rows, "names": sorted(names)})
        self.store.set_meta(UNDO_KEY, json.dumps(journal[-UNDO_KEEP:]))
        return result

    def undo_last(self) -> str | None:
        """Undo the newest labels or people action; returns what it was (None: nothing to undo)."""
        journal = self._undo_journal()
        if not journal:
            return None
        last = journal.pop()
        self.labels.restore(([(n, int(p), bool(ok)) for n, p, ok in last["rows"]], set(last["names"])),
                            [int(p) for p in last["parts"]])
        self.store.set_meta(UNDO_KEY, json.dumps(journal))
        return str(last["what"])

    def undo_what(self) -> str | None:
        """What :meth:`undo_last` would undo (None: nothing)."""
        journal = self._undo_journal()
        return str(journal[-1]["what"]) if journal else None

    def _undo_journal(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.store.get_meta(UNDO_KEY, "[]") or "[]")
        except ValueError:
            return []
        return data if isinstance(data, list) else []

    def cluster_names(self, mode: str = "whole") -> dict[int, str]:
        from organizer.analysis.clusters import Clusterer

        return {c.label: c.name for c in Clusterer(self.store, self.models.clip, self.settings).result(mode, True).clusters}

    def export_projection(self, result: Any, target: Path, mode: str = "whole") -> int:
        """Write a projection with cluster names to CSV or JSON; returns the points written."""
        from organizer.analysis.projection import export

        return export(result, target, self.store, self.cluster_names(mode))

    def photo_details(self, photo_id: int) -> PhotoDetails | None:
        """Everything the window shows about one photo: metadata, paths, parts with boxes, landmarks."""
        info = self.store.photos([photo_id]).get(photo_id)
        if info is None:
            return None
        fields = {f.name: getattr(info, f.name) for f in dataclasses.fields(info)}
        parts = [p for p in self.store.parts_of(photo_id) if p.type != "whole"]
        faces = [p.id for p in parts if p.type == "face"]
        if faces and self.face_space() is not None:  # a face's label is the person it shows
            names = self.people.face_names(faces)
            parts = [dataclasses.replace(p, label=names.get(p.id)) if p.type == "face" else p for p in parts]
        return PhotoDetails(**fields, parts=parts, landmarks=self.store.top_landmarks(photo_id))

    def face_places(self, faces: Iterable[int]) -> dict[int, tuple[str, tuple[float, float, float, float]]]:
        """Where each face is: (a file of its photo, its box), for cover pictures."""
        rows = self.store.parts(faces)
        paths = self.first_paths({r.photo_id for r in rows.values()})
        return {f: (paths[r.photo_id], r.box) for f, r in rows.items() if r.photo_id in paths}

    def status(self) -> LibraryStatus:
        clip_key = self.models.clip.key
        parts_key = self.models.parts_key()
        st = self.store.stats(parts_key=parts_key, model=clip_key)
        found = self.backups()
        faces_off = self.models.faces_off()
        faces_key = self.models.faces_key()
        return LibraryStatus(
            **dataclasses.asdict(st), library=str(self.store.folder),
            models={"clip": clip_key,
                    "detector": self.models.detector.key if self.settings.detection.enabled else None,
                    "ocr": self.models.ocr.key if self.settings.ocr.enabled else None,
                    "face": None if faces_off else self.models.face.key},
            faces_pass_done=self.store.count_faces_done(faces_key) if faces_key else 0, faces_off=faces_off,
            skipped_files=self.store.skipped_list(50), missing_files=self.store.missing_paths()[:50],
            pending_roots=self.pending_roots(), backups=len(found), newest_backup=str(found[0]) if found else None,
            backup_failed=backup_failure_words(self.store.backup_failure()), read_only=self.store.read_only,
            offline=self.offline_folders(), precision=self.precision_verdict())

    def backup_failed(self) -> str | None:
        """When the last backup failed and why, in words (None: it did not, or one worked since)."""
        return backup_failure_words(self.store.backup_failure())


def backup_failure_words(f: backup.Failure | None) -> str | None:
    if f is None:
        return None
    return f"the {f.reason} backup of {f.when.replace('T', ' ')} failed: {f.message}"


def backups_of(library: Path) -> list[Path]:
    """A library folder's backups, newest first (no database needed: restore works on a damaged one)."""
    return backup.backups(library)


def restore(library: Path, chosen: Path | None = None, other_library: bool = False) -> tuple[Path, Path | None]:
    """Put a backup in place of the library's database (default: the newest), keeping the replaced one.
    Refused while any organizer has the library open (the window, an index run): it would go on writing to the
    replaced database. Needs no working database (that is what it mends)."""
    from organizer.errors import LibraryError

    library = Path(os.path.abspath(library))
    lock = FileLock(str(library / WRITE_LOCK))
    try:
        lock.acquire(timeout=5)
    except Timeout as e:
        raise LibraryError("Another organizer is indexing this library; stop it before restoring.",
                           kind="busy") from e
    except OSError as e:
        if e.errno == errno.EROFS:
            raise LibraryError(f"The library ({library}) is read-only: nothing can be restored into it.",
                               kind="read-only") from e
        raise LibraryError(f"Cannot restore into {library}: {e.strerror or e}.", kind="folder") from e
    try:
        users = sessions.others(library)
        if users:
            raise LibraryError("The library is open in another organizer (process " + ", ".join(map(str, users))
                               + "); close it (the window, or a command still running), then restore.",
                               kind="busy")
        return backup.restore(library / DB_NAME, library, chosen, other_library)
    finally:
        lock.release()


_handler: list[logging.Handler] = []


class _QuietFileHandler(logging.handlers.RotatingFileHandler):
    """The log is for details: where it cannot be written (a full disk) the detail is lost, but logging's own
    traceback ("--- Logging error ---", a hundred lines) never reaches the user's terminal."""

    def handleError(self, record: logging.LogRecord) -> None:  # noqa: N802 - logging's name
        pass


def _warning_to_log(message: Warning | str, category: type[Warning], filename: str, lineno: int,
                    file: Any = None, line: str | None = None) -> None:
    """Warnings (a decoder's "possibly corrupt EXIF data") go to the log, never over a progress bar."""
    logging.getLogger("py.warnings").warning("%s", warnings.formatwarning(message, category, filename, lineno, line))


def _log_to(path: Path) -> None:
    """Details that would clutter a progress bar (decoder warnings, failures at close) go to a log file
    in the library most recently opened, which rotates at 1 MB."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = _QuietFileHandler(path, maxBytes=1_000_000, backupCount=2, encoding="utf-8", delay=True)
    except OSError:
        return
    handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
    warnings.showwarning = _warning_to_log
    for name in ("py.warnings", "organizer"):
        log = logging.getLogger(name)
        for old in _handler:
            log.removeHandler(old)
        log.addHandler(handler)
        log.propagate = False
    for old in _handler:
        old.close()
    _handler[:] = [handler]


def _landmark_prompts() -> list[str]:
    """The landmark catalogue's zero-shot prompts (the int8 check compares the labels they give)."""
    from organizer.landmarks.head import catalogue_prompts

    return catalogue_prompts()
