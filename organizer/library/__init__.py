"""The library as the CLI and the GUI see it: one object over the store, the models, indexing and search.

The Library is composed of one part per job over the same settings, models and store: base.py (open, close,
settings), indexing.py, curation.py (search, labels, people, undo), upkeep.py (forget, prune, backups,
restore) and views.py (what the shells show, over the other three)."""

from __future__ import annotations

from organizer.library.base import LOG_FILE, WRITE_LOCK
from organizer.library.curation import UNDO_KEEP, UNDO_KEY
from organizer.library.upkeep import backup_failure_words, backups_of, restore
from organizer.library.views import Views
from organizer.store.records import PhotoDetails

__all__ = ["LOG_FILE", "UNDO_KEEP", "UNDO_KEY", "WRITE_LOCK", "Library", "PhotoDetails", "backup_failure_words",
           "backups_of", "restore"]


class Library(Views):
    """The one door into the core (see the package's docstring)."""
