"""Start the window: `organizer` with no arguments, `organizer gui`, or the `organizer-gui` launcher."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from typing import Any


def run(settings: Any, argv: Sequence[str] | None = None) -> int:
    from PySide6.QtWidgets import QApplication, QMessageBox

    from organizer.errors import OrganizerError
    from organizer.gui.window import MainWindow
    from organizer.library import Library

    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(list(argv or sys.argv[:1]))
    app.setApplicationName("organizer")
    app.setOrganizationName("organizer")
    from PySide6.QtGui import QIcon

    from organizer.resources import resource

    app.setWindowIcon(QIcon(str(resource("icon.png"))))
    from organizer.gui import theme

    theme.apply(app)
    try:
        library = Library(settings)
    except OrganizerError as e:
        from organizer.wording import with_remedy

        QMessageBox.critical(None, "organizer", with_remedy(e, "window"))
        return 1
    window = MainWindow(library)
    window.show()
    code = int(app.exec())
    window.wait_for_background()  # a cancelled step ends (the window is already gone)
    library.close()  # folds the write-ahead log in, records what the library holds, backs up if due
    return code


def startup_seconds(settings: Any) -> float:
    """Seconds from nothing to a shown window (models are not loaded: they load in the background)."""
    from PySide6.QtWidgets import QApplication

    from organizer.gui.window import MainWindow
    from organizer.library import Library

    t = time.perf_counter()
    _ = QApplication.instance() or QApplication([])
    w = MainWindow(Library(settings))
    w.show()
    QApplication.processEvents()
    el = time.perf_counter() - t
    w.ask_on_close = lambda: True
    w.close()
    return el


def gallery_rows_offscreen(library: Any) -> int:
    """Open the window on ``library`` (offscreen where QT_QPA_PLATFORM says so) and count its gallery (the
    self-test's check that the window works in this installation)."""
    from PySide6.QtWidgets import QApplication

    from organizer.gui.window import MainWindow

    app = QApplication.instance() or QApplication(sys.argv[:1])
    w = MainWindow(library)
    w.ask_on_close = lambda: True
    w.show()
    app.processEvents()
    rows = len(w.library_page.gallery.model_.photo_ids())
    w.close()
    return rows
