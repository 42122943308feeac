"""The library's database: SQLite through SQLAlchemy 2.0. Knows nothing of models."""

from organizer.store.db import Store

__all__ = ["Store"]
