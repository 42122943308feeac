"""The watch on the library's folders: which are not there now (an unplugged drive, a moved folder), asked off the
UI thread (a dead network drive can take many seconds to answer), one check at a time."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from PySide6.QtCore import QObject, QTimer, Signal

log = logging.getLogger("organizer.gui.window")


class FolderWatch(QObject):
    found = Signal(object)  # list of (folder, photos) not there now; emitted in the UI thread

    def __init__(self, offline_folders: Callable[[], list[tuple[str, int]]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ask = offline_folders
        self._thread: threading.Thread | None = None
        self._again = False
        self.closed = False
        self.found.connect(self._checked)

    def check(self) -> None:
        if self.closed:
            return
        if self._thread is not None and self._thread.is_alive():
            self._again = True  # one more check when this one ends
            return

        def run() -> None:  # a plain daemon thread: one stuck on a dead network drive never holds up quitting
            try:
                self.found.emit(self._ask())  # queued to the UI thread
            except Exception:  # noqa: BLE001 - the window or the library went meanwhile; the next check tells
                log.debug("folder check ended early", exc_info=True)

        self._thread = threading.Thread(target=run, name="organizer-folder-check", daemon=True)
        self._thread.start()

    def _checked(self, _gone: object) -> None:
        if self._again and not self.closed:
            self._again = False
            QTimer.singleShot(0, self.check)

    def wait(self, seconds: float) -> None:
        """Let a check reading the library end before the library closes."""
        if self._thread is not None:
            self._thread.join(seconds)
