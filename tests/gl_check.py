"""Run under Xvfb by test_gui_gl.py: the OpenGL map with hover, click and box selection."""

from __future__ import annotations

import sys
import time
from pathlib import Path

from PySide6.QtCore import QPoint, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QApplication

from organizer.gui.window import MainWindow
from organizer.library import Library
from organizer.settings import Settings


def wait(app: QApplication, cond, seconds: float = 60) -> bool:
    t = time.time()
    while time.time() - t < seconds:
        app.processEvents()
        if cond():
            return True
        time.sleep(0.02)
    return False


def main() -> int:
    library, models, folder, shot = sys.argv[1:5]
    app = QApplication([])
    s = Settings.load({"library": library, "models": {"dir": models}, "ocr": {"enabled": False},
                       "projection": {"max_iter": 250}})
    w = MainWindow(Library(s))
    w.ask_on_close = lambda: True
    w.resize(1100, 750)
    w.show()
    done: list = []
    w.indexing_finished.connect(done.append)
    w.add_paths([folder])
    assert wait(app, lambda: done), "indexing did not finish"
    fin: list = []
    w.task_finished.connect(fin.append)
    w.tabs.setCurrentWidget(w.projection_page)
    assert wait(app, lambda: fin), "projection did not finish"
    page = w.projection_page
    assert getattr(page.view, "three_d", False), "the OpenGL view was not used"
    wait(app, lambda: False, 1.0)
    screen = page.view.screen_points()
    assert len(screen) == 4
    x, y = map(int, screen[0])
    QTest.mouseMove(page.view, QPoint(x, y))
    assert wait(app, lambda: page.preview.isVisible(), 10), "no hover preview"
    QTest.mouseClick(page.view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, QPoint(x, y))
    assert wait(app, w.photo_shown, 5), "click did not open the photo"
    w.close_photo()
    sets: list = []
    page.open_set.connect(sets.append)
    QTest.mousePress(page.view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier, QPoint(1, 1))
    QTest.mouseMove(page.view, QPoint(page.view.width() - 2, page.view.height() - 2))
    QTest.mouseRelease(page.view, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.ShiftModifier,
                       QPoint(page.view.width() - 2, page.view.height() - 2))
    assert wait(app, lambda: bool(sets), 5) and len(sets[0]) >= 1, "box selection opened nothing"
    w.tabs.setCurrentWidget(page)
    wait(app, lambda: False, 0.5)
    w.grab().save(shot)
    w.close()
    print("GL OK", Path(shot).stat().st_size)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
