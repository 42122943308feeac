"""The library's base: its settings, models, store and log, opened and closed; settings applied live."""

from __future__ import annotations

import logging
import logging.handlers
import warnings
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from organizer.models.registry import ModelSet
from organizer.settings import Settings
from organizer.store import sessions
from organizer.store.db import Store

if TYPE_CHECKING:  # imported where first used: a status or a search need neither
    pass



T = TypeVar("T")


WRITE_LOCK = "index.lock"  # held by a process while it indexes: a second indexer waits for it


LOG_FILE = "organizer.log"  # in the library's logs/: decoder warnings and other details

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


class LibraryBase:
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

    def _with_precision(self, precision: str) -> Settings:
        settings = self.settings.model_copy(deep=True)
        settings.models.precision = precision  # type: ignore[assignment]
        return settings

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

    @property
    def folder(self) -> Path:
        """The library folder (database, backups, thumbnails, logs)."""
        return self.store.folder
