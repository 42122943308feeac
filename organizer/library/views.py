"""What the shells show: the gallery's rows, counts, problems, places, a photo's details, the status."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from organizer.store.records import LibraryStatus, PhotoDetails, PhotoRow, SkippedFile

if TYPE_CHECKING:  # imported where first used: a status or a search need neither
    pass

from organizer.library.indexing import Indexing
from organizer.library.naming import Naming
from organizer.library.upkeep import Upkeep, backup_failure_words
from organizer.parts import Box


class Views(Indexing, Naming, Upkeep):
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

    def problem_files(self, limit: int = 2000) -> tuple[list[SkippedFile], list[str]]:
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

    def motion_clip(self, photo_id: int) -> str | None:
        """The clip of a motion photo (a JPEG carrying an MP4), copied out once into the library's cache for a
        player; None when the photo has none or its file is not there."""
        from organizer.media.video import extract_motion_clip

        info = self.store.photos([photo_id]).get(photo_id)
        if info is None:
            return None
        if info.motion_path is not None:  # a Live Photo's clip: a file of its own
            return info.motion_path if os.path.isfile(info.motion_path) else None
        if info.motion_offset is None or not info.paths or not os.path.isfile(info.paths[0]):
            return None
        dest = self.store.folder / "cache" / "motion" / f"{info.hash}.mp4"
        if not dest.is_file():
            extract_motion_clip(info.paths[0], info.motion_offset, dest)
        return str(dest)

    def face_places(self, faces: Iterable[int]) -> dict[int, tuple[str, Box]]:
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
