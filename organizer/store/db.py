"""The Store: every read and write of the library database goes through here.

Every database error leaves as a :class:`LibraryError` with one line saying what happened (full disk,
read-only library, damaged database, busy) and a :class:`LibraryError.kind` the shells phrase their
advice from; nothing above the store sees SQLAlchemy's exceptions.

The Store is composed of repositories of one job each over one connection (base.py): files and scan state
(files.py), parts and faces (contents.py), vectors (vectors.py), listings, landmarks and stats (catalog.py).
"""

from __future__ import annotations

from organizer.store.base import DB_NAME, MARKER, StoreBase
from organizer.store.catalog import CatalogRepository
from organizer.store.contents import ContentRepository
from organizer.store.files import TRANSIENT_REASONS, FileRepository
from organizer.store.records import FileRef, NewPart, NewPhoto, PartRow, PhotoInfo, VectorRows
from organizer.store.sqlhelp import chunked, path_words
from organizer.store.vectors import VectorRepository

__all__ = ["DB_NAME", "MARKER", "TRANSIENT_REASONS", "FileRef", "NewPart", "NewPhoto", "PartRow", "PhotoInfo", "Store",
           "VectorRows", "chunked", "path_words"]


class Store(FileRepository, ContentRepository, VectorRepository, CatalogRepository, StoreBase):
    """The library database (see the module's docstring)."""
