"""Upkeep: forgetting, relocating and pruning photos, checks, backups and restore."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from organizer.errors import BadArgumentError
from organizer.paths import normalise, resolve
from organizer.store import backup, sessions
from organizer.store.db import DB_NAME
from organizer.store.records import CheckReport

if TYPE_CHECKING:  # imported where first used: a status or a search need neither
    pass

from organizer.library.base import WRITE_LOCK, LibraryBase
from organizer.store.locks import held


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
    with held(library / WRITE_LOCK, 5, "Another organizer is indexing this library; stop it before restoring."):
        users = sessions.others(library)
        if users:
            raise LibraryError("The library is open in another organizer (process " + ", ".join(map(str, users))
                               + "); close it (the window, or a command still running), then restore.",
                               kind="busy")
        return backup.restore(library / DB_NAME, library, chosen, other_library)


class Upkeep(LibraryBase):
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

    def check(self) -> CheckReport:
        return self.store.check()

    def backup(self, reason: str = "manual") -> Path:
        return self.store.backup(reason)

    def backups(self) -> list[Path]:
        return backups_of(self.store.folder)

    def backup_failed(self) -> str | None:
        """When the last backup failed and why, in words (None: it did not, or one worked since)."""
        return backup_failure_words(self.store.backup_failure())
