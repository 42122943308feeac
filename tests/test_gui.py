"""The real window, driven by pytest-qt on the offscreen platform (the OpenGL map runs under Xvfb in
test_gui_gl.py)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("PySide6")

from PySide6.QtCore import QItemSelectionModel, QMimeData, QPoint, QPointF, QSize, Qt, QUrl  # noqa: E402
from PySide6.QtGui import QDropEvent  # noqa: E402
from PySide6.QtWidgets import QLineEdit, QListWidget  # noqa: E402

from organizer.gui.delegate import DAY_STRIP, day_labels  # noqa: E402
from organizer.gui.models import PhotoIdRole  # noqa: E402
from organizer.gui.window import MainWindow  # noqa: E402
from organizer.library import Library  # noqa: E402
from organizer.pipeline.indexer import PENDING  # noqa: E402
from tests.conftest import noise_image  # noqa: E402

WAIT = 120_000


@pytest.fixture
def window(qtbot, make_settings):
    lib = Library(make_settings(ocr={"enabled": False}, projection={"max_iter": 250}))
    w = MainWindow(lib)
    w.ask_on_close = lambda: True
    qtbot.addWidget(w)
    w.show()
    yield w
    w.close()


def drop(widget, paths: list[Path]) -> None:
    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(p)) for p in paths])
    ev = QDropEvent(QPointF(10, 10), Qt.DropAction.CopyAction, mime, Qt.MouseButton.LeftButton,
                    Qt.KeyboardModifier.NoModifier)
    widget.dropEvent(ev)


def index_by_drop(qtbot, w: MainWindow, folder: Path):
    with qtbot.waitSignal(w.indexing_finished, timeout=WAIT) as blocker:
        drop(w, [folder])
    return blocker.args[0]


def test_startup_is_fast_and_loads_no_model(make_settings, tmp_path: Path) -> None:
    """A fresh process shows a usable window in under 3 s, with no model library imported yet."""
    import os
    import subprocess
    import sys

    code = ("import json, sys; from organizer.settings import Settings; from organizer.gui.app import startup_seconds; "
            f"t = startup_seconds(Settings.load({{'library': {str(tmp_path / 'lib')!r}}})); "
            "print(json.dumps({'seconds': t, 'heavy': [m for m in ('torch', 'transformers') if m in sys.modules]}))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "QT_QPA_PLATFORM": "offscreen"})
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    assert out["seconds"] < 3.0 and out["heavy"] == []


def test_drop_index_search_open(qtbot, window: MainWindow, photo_dir: Path) -> None:
    summary = index_by_drop(qtbot, window, photo_dir)
    assert summary is not None and summary.new == 4
    assert len(window.library_page.gallery.model_.photo_ids()) == 4
    assert window.lib.store.get_meta(PENDING) == "[]"
    # type a query: results arrive ranked, debounced, off the UI thread
    window.focus_search()
    assert window.tabs.currentWidget() is window.search_page
    with qtbot.waitSignal(window.search_finished, timeout=WAIT) as blocker:
        qtbot.keyClicks(window.search_page.box, "a cat")
    assert blocker.args[0] == 4
    rows = window.search_page.results.model_.rows
    scores = [r.score for r in rows]
    assert scores == sorted(scores, reverse=True)
    # search by a dropped photo: the photo itself comes first
    with qtbot.waitSignal(window.search_finished, timeout=WAIT):
        drop(window.search_page.box, [photo_dir / "coffee.jpg"])
    assert window.search_page.results.model_.rows[0].path == str(photo_dir / "coffee.jpg")
    # open the first result with Enter
    view = window.search_page.results
    view.setFocus()
    view.setCurrentIndex(view.model().index(0, 0))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert window.photo_shown()
    assert "coffee.jpg" in window.viewer.info.toPlainText()
    # Esc goes back from the photo to the results; a second Esc clears the search
    qtbot.keyClick(window.viewer, Qt.Key.Key_Escape)
    assert not window.photo_shown() and window.search_page.image_path is not None  # the search is still there
    assert window.search_page.results.hasFocus() or not window.isActiveWindow()
    qtbot.keyClick(window.search_page.box, Qt.Key.Key_Escape)
    assert window.search_page.box.text() == "" and window.search_page.image_path is None


def test_search_results_are_shown_from_the_ui_thread(qtbot, window: MainWindow, photo_dir: Path, monkeypatch) -> None:
    """The search runs in a worker; its results used to be put in the gallery from the worker's own thread (a
    lambda connection has no receiver to queue to), which Qt does not allow ("Timers cannot be started from
    another thread") and which can crash."""
    import threading

    index_by_drop(qtbot, window, photo_dir)
    results = window.search_page.results
    shown_in: list[threading.Thread] = []
    real = results.set_rows
    monkeypatch.setattr(results, "set_rows", lambda rows: (shown_in.append(threading.current_thread()), real(rows)))
    with qtbot.waitSignal(window.search_finished, timeout=WAIT):
        window.search_page.box.setText("a cat")
    assert shown_in == [threading.main_thread()]


def test_weights_change_the_query(qtbot, window: MainWindow) -> None:
    window.search_page.sliders["whole"].setValue(0)
    window.search_page.box.setText("x")
    q = window.search_page.query()
    assert q is not None and q.weights["whole"] == 0.0 and q.weights["person"] == 1.0


def test_clusters_and_map_pages(qtbot, window: MainWindow, photo_dir: Path) -> None:
    index_by_drop(qtbot, window, photo_dir)
    with qtbot.waitSignal(window.task_finished, timeout=WAIT):
        window.tabs.setCurrentWidget(window.clusters_page)
    assert window.clusters_page.list.count() >= 1
    assert window.clusters_page.gallery.model().rowCount() >= 1  # the first cluster's photos
    with qtbot.waitSignal(window.task_finished, timeout=WAIT):
        window.tabs.setCurrentWidget(window.projection_page)
    page = window.projection_page
    assert len(page.photo_ids) == 4 and "4 points" in page.status.text()
    # hover and click on a point (the 2D stand-in here; the GL view in test_gui_gl.py)
    screen = page.view.screen_points()
    x, y = map(int, screen[0])
    qtbot.mouseMove(page.view, QPoint(x, y))
    qtbot.waitUntil(lambda: page.preview.isVisible(), timeout=10_000)
    qtbot.mouseClick(page.view, Qt.MouseButton.LeftButton, pos=QPoint(x, y))
    assert window.photo_shown() and window.viewer.details.id == int(page.photo_ids[0])


def test_landmarks_page_lists_and_filters(qtbot, window: MainWindow, photo_dir: Path) -> None:
    index_by_drop(qtbot, window, photo_dir)
    pid = window.library_page.gallery.model_.photo_ids()[0]
    window.lib.store.set_landmarks([(pid, "Eiffel Tower", 0.9, [("Eiffel_Tower", "Eiffel Tower", 0.9, None)])], "h")
    window.tabs.setCurrentWidget(window.landmarks_page)
    assert window.landmarks_page.list.count() == 1
    window.landmarks_page.list.setCurrentRow(0)
    assert window.landmarks_page.gallery.model().rowCount() == 1


def test_cancel_keeps_what_was_stored(qtbot, window: MainWindow, tmp_path: Path) -> None:
    folder = tmp_path / "many"
    folder.mkdir()
    for i in range(150):
        noise_image(i, (120, 90)).save(folder / f"{i:03}.jpg")
    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT) as blocker:
        drop(window, [folder])
        qtbot.waitUntil(lambda: window.lib.store.stats().photos > 0, timeout=WAIT)
        window.cancel_button.click()
    assert blocker.args[0] is None  # cancelled, not finished
    stored = window.lib.store.stats().photos
    assert 0 < stored <= 150
    assert len(window.library_page.gallery.model_.photo_ids()) == stored
    # adding the folder again goes on from there
    summary = index_by_drop(qtbot, window, folder)
    assert summary.new == 150 - stored and window.lib.store.stats().photos == 150


def test_pause_and_resume(qtbot, window: MainWindow, tmp_path: Path) -> None:
    folder = tmp_path / "some"
    folder.mkdir()
    n = 150
    for i in range(n):
        noise_image(i, (120, 90)).save(folder / f"{i:03}.jpg")
    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT):
        drop(window, [folder])
        qtbot.waitUntil(lambda: window.task is not None and window.task.running(), timeout=WAIT)
        window.pause_button.click()
        assert window.task.worker.paused and window.pause_button.text() == "Resume"
        qtbot.wait(700)  # the batch in flight, if any, is stored
        before = window.lib.store.stats().photos
        qtbot.wait(1500)
        assert window.lib.store.stats().photos == before < n  # paused: nothing more was done
        assert window.progress_label.text().endswith("(paused)")  # still said after the last event came in
        window.pause_button.click()
    assert window.lib.store.stats().photos == n


def test_errors_reach_the_window(qtbot, window: MainWindow, tmp_path: Path) -> None:
    with qtbot.waitSignal(window.indexing_finished, timeout=WAIT):
        drop(window, [tmp_path / "gone"])
    assert window.message.isVisible() and "exist" in window.message.text()
    bad = tmp_path / "bad.jpg"
    bad.write_text("not a photo")
    window.search_page.set_image(str(bad))
    qtbot.waitUntil(lambda: "Cannot use" in window.message.text(), timeout=WAIT)


def test_skipped_files_are_listed(qtbot, window: MainWindow, photo_dir: Path) -> None:
    (photo_dir / "notes.jpg").write_text("hello")
    index_by_drop(qtbot, window, photo_dir)
    assert window.skipped_button.text() == "Skipped: 1"
    assert "not an image" in window.skipped_list.item(0).text()


def test_closing_mid_run_asks_and_resumes_next_start(qtbot, make_settings, tmp_path: Path) -> None:
    folder = tmp_path / "resume"
    folder.mkdir()
    for i in range(150):
        noise_image(i, (120, 90)).save(folder / f"{i:03}.jpg")
    settings = make_settings(ocr={"enabled": False})
    w = MainWindow(Library(settings))
    qtbot.addWidget(w)
    asked = []
    w.ask_on_close = lambda: asked.append(1) or True
    w.show()
    drop(w, [folder])
    qtbot.waitUntil(lambda: w.lib.store.stats().photos > 0, timeout=WAIT)
    w.toggle_pause()  # holds the run mid-way, however fast this machine is
    w.close()
    assert asked and json.loads(w.lib.store.get_meta(PENDING)) == [str(folder)]
    w2 = MainWindow(Library(settings))
    qtbot.addWidget(w2)
    w2.ask_on_close = lambda: True
    with qtbot.waitSignal(w2.indexing_finished, timeout=WAIT):
        w2.show()
    assert w2.lib.store.stats().photos == 150
    w2.close()


def test_settings_page_saves_the_users_file(qtbot, window: MainWindow, tmp_path: Path) -> None:
    page = window.settings_page
    page.eps.setValue(0.3)
    with qtbot.waitSignal(page.saved, timeout=5000) as blocker:
        page.save()
    assert blocker.args[0].clusters.eps == pytest.approx(0.3)
    saved = json.loads((tmp_path / "user-settings.json").read_text())
    assert saved["clusters"]["eps"] == pytest.approx(0.3)


def test_result_thumbnails_outline_the_matching_part(qtbot, window: MainWindow) -> None:
    from PySide6.QtGui import QColor, QImage

    from organizer.gui.models import Row
    from organizer.search.engine import PartMatch

    img = QImage(160, 120, QImage.Format.Format_RGB32)
    img.fill(QColor(0, 0, 0))
    window.thumbs.images[1] = img
    part = PartMatch(7, "person", (0.25, 0.25, 0.75, 0.75), 0.5, 0.3)
    view = window.search_page.results
    view.set_rows([Row(1, "/nowhere/a.jpg", None, 0.5, [part])])
    window.tabs.setCurrentWidget(window.search_page)
    qtbot.waitExposed(window)
    shot = view.viewport().grab().toImage()
    rect = view.visualRect(view.model().index(0, 0))
    cyan = [(x, y) for x in range(rect.left(), rect.right()) for y in range(rect.top(), rect.bottom())
            if QColor(shot.pixel(x, y)).blue() > 200 and QColor(shot.pixel(x, y)).red() < 60]
    assert len(cyan) > 50  # the person's box is drawn over the black thumbnail


def test_label_photos_from_the_gallery_and_teach_with_suggestions(qtbot, window: MainWindow, photo_dir: Path) -> None:
    index_by_drop(qtbot, window, photo_dir)
    gallery = window.library_page.gallery
    first = gallery.photo_index(0)
    gallery.selectionModel().select(first, gallery.selectionModel().SelectionFlag.ClearAndSelect)
    window.ask_label_name = lambda: "Grandma"
    gallery.label_requested.emit(gallery.selected_ids())
    assert [(i.name, i.photos) for i in window.lib.labels.list()] == [("Grandma", 1)]
    window.tabs.setCurrentWidget(window.labels_page)
    page = window.labels_page
    assert page.list.count() == 1
    page.list.setCurrentRow(0)
    assert page.members.model().rowCount() == 1 and page.suggestions.model().rowCount() == 3
    s = page.suggestions
    s.selectionModel().select(s.model().index(0, 0), s.selectionModel().SelectionFlag.ClearAndSelect)
    page.confirm.click()
    assert page.members.model().rowCount() == 2 and page.suggestions.model().rowCount() == 2
    s.selectionModel().select(s.model().index(0, 0), s.selectionModel().SelectionFlag.ClearAndSelect)
    page.reject.click()
    assert page.suggestions.model().rowCount() == 1 and window.lib.labels.list()[0].rejected == 1
    # the viewer labels one outlined part
    window.open_photo(first.data(PhotoIdRole), None)
    viewer = window.viewer
    assert viewer.parts.count() > 0  # detection at threshold 0 outlines parts on every photo
    part_id = int(viewer.parts.itemData(0))
    window.ask_label_name = lambda: "Spoon"
    viewer.label_part.emit(part_id)
    assert window.lib.labels.members("Spoon") == ([part_id], [])


def test_settings_page_saves_only_changes_to_the_file_in_use(qtbot, tmp_path: Path, tiny_models: Path) -> None:
    from organizer.gui.pages.settings_page import SettingsPage
    from organizer.settings import Settings, user_settings_file

    own = tmp_path / "own-settings.json"
    own.write_text(json.dumps({"ocr": {"canvas": 1280}}))
    # started with --settings own.json --library X --models Y: those flags must not become permanent
    s = Settings.load({"library": str(tmp_path / "lib"), "models": {"dir": str(tiny_models)}}, own)
    page = SettingsPage(s)
    qtbot.addWidget(page)
    page.eps.setValue(0.35)
    page.save()
    saved = json.loads(own.read_text())
    assert saved == {"ocr": {"canvas": 1280}, "clusters": {"eps": 0.35}}
    assert not user_settings_file().exists()


def test_the_settings_page_saves_a_file_unchanged_when_nothing_was_edited(qtbot, tmp_path: Path,
                                                                          tiny_models: Path) -> None:
    """The page kept its own, narrower copies of the settings' bounds: from a file holding sample 200000 and
    min_samples 500, Save with no edit wrote 100000 and 100. Its spin boxes now take the model's own bounds."""
    from organizer.gui.pages.settings_page import SettingsPage
    from organizer.settings import Settings

    own = tmp_path / "own-settings.json"
    held = {"projection": {"sample": 200000, "perplexity": 500.0, "max_iter": 50000},
            "clusters": {"min_samples": 500, "eps": 1.5}, "landmarks": {"max_km": 5000.0},
            "faces": {"distance": 1.8}}
    own.write_text(json.dumps(held))
    page = SettingsPage(Settings.load({"library": str(tmp_path / "lib"), "models": {"dir": str(tiny_models)}}, own))
    qtbot.addWidget(page)
    assert page.changes() == {}
    page.save()
    assert json.loads(own.read_text()) == held


def test_the_settings_page_offers_what_the_settings_model_declares(qtbot, tmp_path: Path, monkeypatch) -> None:
    """Each setting's widget comes from its declaration: a new choice or a changed bound in the settings model
    shows on the page with no edit to the page (it kept its own lists and ranges)."""
    from PySide6.QtWidgets import QCheckBox, QComboBox, QDoubleSpinBox, QSpinBox

    import organizer.gui.pages.settings_page as sp
    from organizer.settings import FieldSpec, Settings, field_spec

    real = field_spec

    def widened(path: str, model=Settings) -> FieldSpec:  # noqa: ANN001
        spec = real(path, model)
        if path == "ocr.engine":
            return dataclasses.replace(spec, choices=(*spec.choices, "tesseract"))
        if path == "clusters.min_samples":
            return dataclasses.replace(spec, hi=7.0)
        return spec

    monkeypatch.setattr(sp, "field_spec", widened)
    page = sp.SettingsPage(Settings.load({"library": str(tmp_path / "lib")}, tmp_path / "none.json"))
    qtbot.addWidget(page)
    engine = page.editors["ocr.engine"]
    assert isinstance(engine, QComboBox)
    assert [engine.itemText(i) for i in range(engine.count())] == ["auto", "rapidocr", "easyocr", "tesseract"]
    samples = page.editors["clusters.min_samples"]
    assert isinstance(samples, QSpinBox) and samples.maximum() == 7
    eps = page.editors["clusters.eps"]
    assert isinstance(eps, QDoubleSpinBox) and eps.minimum() > 0 and eps.maximum() <= real("clusters.eps").hi
    assert isinstance(page.editors["faces.enabled"], QCheckBox)
    assert set(page.values()["projection"]) == {"perplexity", "max_iter", "sample"}


def test_quitting_when_the_run_ended_during_the_question(qtbot, window: MainWindow, photo_dir: Path) -> None:
    drop(window, [photo_dir])
    qtbot.waitUntil(lambda: window.task is not None and window.task.running(), timeout=WAIT)

    def ask() -> bool:  # the run ends while the user reads the question
        qtbot.waitUntil(lambda: window.task is None, timeout=WAIT)
        return True

    window.ask_on_close = ask
    window.close()  # used to raise AttributeError: 'NoneType' object has no attribute 'stop'
    assert not window.isVisible()


def test_a_plain_quit_is_quick(qtbot, window: MainWindow, photo_dir: Path) -> None:
    import time

    index_by_drop(qtbot, window, photo_dir)
    t = time.perf_counter()
    window.close()
    assert time.perf_counter() - t < 1.0 and not window.isVisible()


def test_error_banner_closes_and_a_good_run_clears_it(qtbot, window: MainWindow, photo_dir: Path) -> None:
    window.show_message("Could not read something")
    assert window.message.isVisible()
    window.close_message.click()
    assert not window.message.isVisible()
    window.show_message("Not found: /media/usb")
    index_by_drop(qtbot, window, photo_dir)
    assert not window.message.isVisible()


def test_recompute_uses_settings_changed_on_the_page(qtbot, window: MainWindow, photo_dir: Path) -> None:
    index_by_drop(qtbot, window, photo_dir)
    with qtbot.waitSignal(window.task_finished, timeout=WAIT):
        window.run_analysis("clusters", False, True)
    assert [c.photos for c in window._cluster_result.clusters if c.label >= 0] == [4]  # the tiny CLIP: one
    page = window.settings_page
    page.min_samples.setValue(5)  # more than the library holds: no cluster can form
    page.save()
    assert window.lib.settings.clusters.min_samples == 5
    with qtbot.waitSignal(window.task_finished, timeout=WAIT):
        window.run_analysis("clusters", False, True)
    assert [c.photos for c in window._cluster_result.clusters if c.label >= 0] == []


def test_result_outline_lands_on_the_parts_pixels(qtbot, window: MainWindow) -> None:
    from PySide6.QtGui import QColor, QImage, QPainter

    from organizer.gui.models import Row
    from organizer.search.engine import PartMatch

    # a landscape thumbnail (letterboxed in its tile) with the part painted green where its box says
    img = QImage(192, 128, QImage.Format.Format_RGB32)
    img.fill(QColor(0, 0, 0))
    box = (0.55, 0.30, 0.90, 0.80)
    p = QPainter(img)
    p.fillRect(int(box[0] * 192), int(box[1] * 128), int((box[2] - box[0]) * 192), int((box[3] - box[1]) * 128),
               QColor(0, 255, 0))
    p.end()
    window.thumbs.images[1] = img
    view = window.search_page.results
    view.set_rows([Row(1, "/nowhere/a.jpg", None, 0.5, [PartMatch(7, "person", box, 0.5, 0.3)])])
    window.tabs.setCurrentWidget(window.search_page)
    qtbot.waitExposed(window)
    view.selectionModel().clear()  # no selection tint over the tile
    view.setCurrentIndex(view.model().index(-1, -1))
    shot = view.viewport().grab().toImage()
    rect = view.visualRect(view.model().index(0, 0))
    pts = [(x, y) for x in range(rect.left(), rect.right()) for y in range(rect.top(), rect.bottom())]
    white = [(x, y) for x, y in pts if (c := QColor(shot.pixel(x, y))).green() > 180 and c.red() < 80 and c.blue() < 110]
    cyan = [(x, y) for x, y in pts if (c := QColor(shot.pixel(x, y))).blue() > 230 and c.green() > 170 and c.red() < 40]
    assert len(cyan) > 50 and len(white) > 500

    def bounds(ps: list[tuple[int, int]]) -> tuple[int, int, int, int]:
        xs, ys = [x for x, _ in ps], [y for _, y in ps]
        return min(xs), min(ys), max(xs), max(ys)

    # the outline traces the part: each side within 3 pixels of the green rectangle's edge
    assert all(abs(a - b) <= 3 for a, b in zip(bounds(cyan), bounds(white), strict=True)), (bounds(cyan), bounds(white))


def test_settings_page_shows_the_models_folder_and_explains_itself(qtbot, tmp_path: Path, tiny_models: Path) -> None:
    from organizer.gui.pages.settings_page import SettingsPage
    from organizer.settings import Settings

    own = tmp_path / "own.json"
    s = Settings.load({"library": str(tmp_path / "lib"), "models": {"dir": str(tiny_models)}}, own)
    page = SettingsPage(s)
    qtbot.addWidget(page)
    assert page.clip.text() == "" and str(tiny_models / "clip") in page.clip.placeholderText()
    assert "DBSCAN" in page.eps.toolTip() and "alike" in page.layout().itemAt(0).layout().labelForField(
        page.eps).text()
    page.save()  # nothing changed: nothing about models (or anything else) is written
    assert not own.exists() or json.loads(own.read_text()) == {}


def test_counts_read_as_words(qtbot, window: MainWindow, tmp_path: Path) -> None:
    folder = tmp_path / "one"
    folder.mkdir()
    noise_image(1).save(folder / "a.png")
    index_by_drop(qtbot, window, folder)
    assert window.library_page.count.text() == "1 photo"


def test_the_search_model_warms_up_after_the_window_shows(qtbot, window: MainWindow) -> None:
    assert not window.lib.models.clip.is_loaded  # the window came first
    with qtbot.waitSignal(window.warmed, timeout=WAIT):
        pass
    assert window.lib.models.clip.is_loaded and "ready" in window.statusBar().currentMessage()


def test_model_loading_is_announced(make_settings, photo_dir: Path) -> None:
    from organizer.progress import Progress

    lib = Library(make_settings())
    phases = [e.phase for e in lib.index([str(photo_dir)], parts=True) if isinstance(e, Progress)]
    assert phases.index("models") < phases.index("whole")  # said before the wait for the model


def test_down_and_enter_from_the_search_box(qtbot, window: MainWindow, photo_dir: Path) -> None:
    index_by_drop(qtbot, window, photo_dir)
    window.focus_search()
    with qtbot.waitSignal(window.search_finished, timeout=WAIT):
        qtbot.keyClicks(window.search_page.box, "rocket")
    qtbot.keyClick(window.search_page.box, Qt.Key.Key_Down)
    view = window.search_page.results
    assert view.hasFocus() and view.currentIndex().row() == 0
    qtbot.keyClick(view, Qt.Key.Key_Return)
    assert window.photo_shown()


def test_an_exact_file_name_is_found(make_settings, photo_dir: Path) -> None:
    from organizer.search.engine import SearchQuery

    noise_image(9).save(photo_dir / "gen_garden_070.png")
    lib = Library(make_settings())
    list(lib.index([str(photo_dir)], parts=False))
    res = lib.search(SearchQuery(text="gen_garden_070", top_k=5, threshold=-10))
    assert Path(res[0].path).name == "gen_garden_070.png" and res[0].keyword_score == pytest.approx(0.5)


def test_missing_photos_are_marked_in_the_gallery(qtbot, window: MainWindow, photo_dir: Path, tmp_path: Path) -> None:
    import shutil

    index_by_drop(qtbot, window, photo_dir)
    shutil.move(photo_dir / "coffee.jpg", tmp_path / "away.jpg")
    index_by_drop(qtbot, window, photo_dir)
    gallery = window.library_page.gallery
    texts = [gallery.photo_index(i).data() for i in range(len(gallery.model_.photo_ids()))]
    assert len(texts) == 4 and [t for t in texts if "missing" in t] == ["coffee.jpg (missing)"]
    assert window.lib.missing_count() == 1


def test_map_preview_goes_when_the_pointer_leaves(qtbot, window: MainWindow, photo_dir: Path) -> None:
    from PySide6.QtCore import QEvent
    from PySide6.QtWidgets import QApplication

    index_by_drop(qtbot, window, photo_dir)
    window.tabs.setCurrentWidget(window.projection_page)
    page = window.projection_page
    qtbot.waitUntil(lambda: len(page.photo_ids) == 4, timeout=WAIT)
    x, y = map(int, page.view.screen_points()[0])
    page.view.hovered.emit(0, page.view.mapToGlobal(QPoint(x, y)))  # the view found a point under the pointer
    assert page.preview.isVisible()
    QApplication.sendEvent(page.view, QEvent(QEvent.Type.Leave))
    assert not page.preview.isVisible()


def test_objects_with_none_found_clear_the_clusters_page(qtbot, window: MainWindow, photo_dir: Path) -> None:
    from organizer.gui.models import Row

    page = window.clusters_page
    page.gallery.set_rows([Row(1, "/x/a.jpg"), Row(2, "/x/b.jpg")])  # a previous cluster's photos

    class Empty:
        clusters: list = []
        reused, seconds, points, mode = False, 0.1, 0, "parts"

    page.show_result(Empty(), {})
    assert page.gallery.model().rowCount() == 0 and "no objects" in page.status.text()


def test_show_in_folder_without_a_file_manager_says_where(qtbot, window: MainWindow, photo_dir: Path,
                                                         monkeypatch) -> None:
    from PySide6.QtGui import QDesktopServices

    index_by_drop(qtbot, window, photo_dir)
    monkeypatch.setattr(QDesktopServices, "openUrl", staticmethod(lambda url: False))
    window.open_photo(window.library_page.gallery.model_.photo_ids()[0], None)
    viewer = window.viewer
    reveal = next(b for b in viewer.findChildren(type(window.pause_button)) if b.text() == "Show in folder")
    reveal.click()
    assert viewer.reveal_note.isVisible() and str(photo_dir) in viewer.reveal_note.text()


def index_two_faces(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """Two photos of one person (scikit-image's astronaut and a smaller, turned copy), indexed by a drop, with
    dlib's real weights finding both faces."""
    from tests.conftest import sample_image

    folder = tmp_path / "faces"
    folder.mkdir()
    astronaut = sample_image("astronaut")
    astronaut.save(folder / "eileen.jpg", quality=92)
    astronaut.resize((400, 400)).rotate(4).save(folder / "eileen-small.jpg", quality=80)
    window.lib.settings.detection.enabled = False
    assert index_by_drop(qtbot, window, folder).faces_found == 2


def test_people_page_names_in_place_shows_photos_and_moves_a_face_out(qtbot, window: MainWindow,
                                                                       tmp_path: Path) -> None:
    index_two_faces(qtbot, window, tmp_path)
    page = window.people_page
    with qtbot.waitSignal(window.thumbs.face_ready, timeout=WAIT):
        window.tabs.setCurrentWidget(page)
    assert page.list.count() == 1
    item = page.list.item(0)
    number = window.lib.people.overview().people[0].number  # its first face's id: stable, as the CLI lists it
    assert item.text() == f"Unnamed {number}\n2 photos"
    qtbot.waitUntil(lambda: not page.list.item(0).icon().isNull(), timeout=WAIT)  # the round face arrived
    assert page.photos.model().rowCount() == 2
    # name in place: the editor holds the name alone, and a name is saved as a person
    page.list.editItem(item)
    editor = page.list.findChild(QLineEdit)
    assert editor is not None and editor.text() == ""
    editor.setText("Eileen")
    qtbot.keyClick(editor, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: page.list.count() == 1 and page.list.item(0).text().startswith("Eileen"))
    assert window.lib.people.names() == ["Eileen"]
    assert page.current() == "Eileen" and page.not_them.isEnabled()
    # the photo window outlines her face with her name
    pid = window.lib.people.overview().people[0].photos[0]
    window.open_photo(pid, None)
    viewer = window.viewer
    texts = [viewer.parts.itemText(i) for i in range(viewer.parts.count())]
    assert "face: Eileen" in texts
    viewer.leave()
    assert not window.photo_shown()
    # one of the two is not her: select it, "Not this person"
    page.photos.setCurrentIndex(page.photos.model().index(0))
    page.photos.selectionModel().select(page.photos.model().index(0),
                                        QItemSelectionModel.SelectionFlag.ClearAndSelect)
    qtbot.mouseClick(page.not_them, Qt.MouseButton.LeftButton)
    assert len(window.lib.people.overview().people[0].faces) == 1
    assert page.photos.model().rowCount() == 1
    # nothing is chosen for the user: a second click acts on nothing (it took out the next photo)
    assert page.photos.selected_ids() == []
    qtbot.mouseClick(page.not_them, Qt.MouseButton.LeftButton)
    assert len(window.lib.people.overview().people[0].faces) == 1
    # and it is undoable, as naming is
    assert window.undo_action.isEnabled() and "not Eileen" in window.undo_action.text()
    window.undo()
    assert len(window.lib.people.overview().people[0].faces) == 2
    window.undo()  # the naming
    assert window.lib.people.names() == []


def test_a_name_in_use_is_asked_before_merging(qtbot, window: MainWindow, monkeypatch) -> None:
    """Naming a group with a name in use merged them silently; the window now asks, and No changes nothing."""
    from organizer.people.people import NameInUseError

    calls: list[tuple[str, str, bool]] = []

    def name(ref: str, new: str, merge: bool = False):  # noqa: ANN202
        calls.append((ref, new, merge))
        if not merge:
            raise NameInUseError("Kit", 3)
        from organizer.people.people import Named

        return Named("Kit", 5, merged=True)

    monkeypatch.setattr(window.lib.people, "name", name)
    monkeypatch.setattr(window.lib.people, "touched", lambda *refs: [])
    asked: list[str] = []
    window.ask_yes = lambda q: (asked.append(q), False)[1]
    window._person_renamed("12", "Kit")
    assert calls == [("12", "Kit", False)] and "Kit is already a person (3 faces)" in asked[0]
    window.ask_yes = lambda q: True
    window._person_renamed("12", "Kit")
    assert calls[-1] == ("12", "Kit", True) and "merge into Kit" in window.undo_action.text()


def test_select_all_survives_the_refreshes_of_a_run(qtbot, window: MainWindow, photo_dir: Path) -> None:
    """Ctrl+A in the gallery during indexing kept one photo selected a few seconds later."""
    index_by_drop(qtbot, window, photo_dir)
    gallery = window.library_page.gallery
    gallery.selectAll()
    assert len(gallery.selected_ids()) == 4
    window.refresh_library()  # what every batch of a run does
    assert len(gallery.selected_ids()) == 4


def test_the_label_dialog_starts_empty(qtbot, window: MainWindow, monkeypatch) -> None:
    """It was pre-filled and selected with the first name: Enter mislabelled photos."""
    from PySide6.QtWidgets import QInputDialog

    window.lib.labels.add("Barack Obama", [])
    seen: list[tuple] = []
    monkeypatch.setattr(QInputDialog, "getItem", staticmethod(lambda *a: (seen.append(a), ("", False))[1]))
    assert window._ask_label_name() is None
    items, current = seen[0][3], seen[0][4]
    assert items[current] == "" and "Barack Obama" in items


def test_quitting_during_a_long_step_hides_the_window_at_once(qtbot, window: MainWindow, monkeypatch) -> None:
    """A step that cannot stop mid-way (a model loading for seconds) no longer holds the window."""
    import threading
    import time

    from organizer.progress import Notice

    release = threading.Event()

    def slow_index(roots, parts=True):  # noqa: ANN001, ARG001
        yield Notice("Loading models")
        release.wait(20)  # the long step
        yield Notice("after the step")

    monkeypatch.setattr(window.lib, "index", slow_index)
    window.add_paths([str(Path.cwd())])
    qtbot.waitUntil(lambda: window.task is not None and window.task.running(), timeout=WAIT)
    qtbot.wait(100)
    t = time.perf_counter()
    window.close()
    assert time.perf_counter() - t < 1.0 and not window.isVisible()
    assert window._stopping  # still ending its step, after the window went
    release.set()
    window.wait_for_background(10_000)
    assert not window._stopping and window.task is None or not window.task.running()


def test_recompute_while_a_run_resumes_starts_after_it(qtbot, window: MainWindow, photo_dir: Path,
                                                       monkeypatch) -> None:
    """After a restart the window resumes indexing; a Recompute pressed meanwhile used to do nothing
    visible. Now the page says it waits, and the clusters are computed when the run ends."""
    import threading

    from organizer.progress import Notice

    index_by_drop(qtbot, window, photo_dir)
    release = threading.Event()

    def slow_index(roots, parts=True):  # noqa: ANN001, ARG001
        yield Notice("Resuming the last run.")
        release.wait(20)

    monkeypatch.setattr(window.lib, "index", slow_index)
    window.add_paths([str(photo_dir)])
    qtbot.waitUntil(lambda: window.task is not None and window.task.running(), timeout=WAIT)
    window.tabs.setCurrentWidget(window.clusters_page)
    qtbot.mouseClick(window.clusters_page.button, Qt.MouseButton.LeftButton)
    assert "Waiting for the current run" in window.clusters_page.status.text()
    with qtbot.waitSignal(window.task_finished, timeout=WAIT) as blocker:
        release.set()
    assert blocker.args[0] == "clusters" and window.clusters_page.list.count() > 0


def test_a_moved_folder_shows_as_missing_and_locate_brings_it_back(qtbot, window: MainWindow, photo_dir: Path,
                                                                    tmp_path: Path) -> None:
    import shutil

    index_by_drop(qtbot, window, photo_dir)
    window.lib.labels.add("Trip", window.lib.labels.resolve([str(photo_dir / "coffee.jpg")]))
    moved = tmp_path / "elsewhere" / "photos"
    moved.parent.mkdir()
    shutil.move(str(photo_dir), str(moved))  # moved away while organizer was not looking: no scan ran
    page = window.library_page
    window.refresh_library()  # folders are checked off the UI thread
    qtbot.waitUntil(page.banner.isVisible, timeout=5000)
    assert str(photo_dir) in page.banner_text.text()
    assert all(r.missing for r in page.gallery.model_.rows)  # no grey tiles pretending to be there
    page.filter.setCurrentIndex(1)
    assert len(page.gallery.model_.photo_ids()) == 4  # "Missing only"
    window.ask_folder = lambda old: str(moved)
    qtbot.mouseClick(page.locate_button, Qt.MouseButton.LeftButton)
    assert not page.banner.isVisible() and page.gallery.model_.photo_ids() == []
    page.filter.setCurrentIndex(0)
    assert not any(r.missing for r in page.gallery.model_.rows) and len(page.gallery.model_.photo_ids()) == 4
    assert window.lib.label_photo_ids("Trip")  # the label came back with its photo


def test_forget_an_offline_folder_asks_first(qtbot, window: MainWindow, photo_dir: Path, monkeypatch) -> None:
    import shutil
    import time

    index_by_drop(qtbot, window, photo_dir)
    shutil.rmtree(photo_dir / "trip")
    check = window.lib.offline_folders

    def slow_check() -> list[tuple[str, int]]:  # an unplugged network drive can take seconds to answer
        time.sleep(1.5)
        return check()

    monkeypatch.setattr(window.lib, "offline_folders", slow_check)
    start = time.perf_counter()
    window.refresh_library()
    assert time.perf_counter() - start < 0.5  # the window did not wait for it
    page = window.library_page
    qtbot.waitUntil(lambda: bool(page.offline), timeout=10_000)
    assert page.offline[0] == (str(photo_dir / "trip"), 2)
    asked: list[str] = []
    window.ask_yes = lambda q: asked.append(q) or False
    qtbot.mouseClick(page.forget_button, Qt.MouseButton.LeftButton)
    assert asked and "2 photos" in asked[0] and window.lib.photo_count() == 4  # said no: nothing lost
    window.ask_yes = lambda q: True
    qtbot.mouseClick(page.forget_button, Qt.MouseButton.LeftButton)
    assert window.lib.photo_count() == 2 and not page.banner.isVisible()


def test_skipped_and_missing_files_have_a_place_after_the_run(qtbot, window: MainWindow, tmp_path: Path) -> None:
    folder = tmp_path / "mixed"
    folder.mkdir()
    noise_image(1).save(folder / "good.png")
    (folder / "notes.jpg").write_text("not a photo")
    index_by_drop(qtbot, window, folder)
    page = window.library_page
    assert not window.progress_box.isVisible() and page.problems_button.isVisible()
    assert "1 file skipped" in page.problems_button.text()
    qtbot.mouseClick(page.problems_button, Qt.MouseButton.LeftButton)
    lines = window.problem_dialog.findChild(QListWidget)
    assert "notes.jpg: not an image" in lines.item(0).text()
    window.problem_dialog.close()


def test_dragging_over_the_window_says_what_a_drop_does(qtbot, window: MainWindow, photo_dir: Path) -> None:
    from PySide6.QtGui import QDragEnterEvent, QDragLeaveEvent

    mime = QMimeData()
    mime.setUrls([QUrl.fromLocalFile(str(photo_dir))])
    window.dragEnterEvent(QDragEnterEvent(QPoint(10, 10), Qt.DropAction.CopyAction, mime,
                                          Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier))
    assert window.drop_hint.isVisible() and "Drop to add" in window.drop_hint.text()
    window.dragLeaveEvent(QDragLeaveEvent())
    assert not window.drop_hint.isVisible()


def test_the_viewer_steps_through_the_gallery_and_zooms(qtbot, window: MainWindow, photo_dir: Path) -> None:
    from organizer.gui.viewer import when

    index_by_drop(qtbot, window, photo_dir)
    gallery = window.library_page.gallery
    gallery.activated.emit(gallery.photo_index(0))  # Enter on the first photo
    viewer = window.viewer
    qtbot.waitExposed(viewer)
    ids = gallery.model_.photo_ids()
    assert viewer.details.id == ids[0] and viewer.position.text() == "1 of 4"
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    assert viewer.details.id == ids[1] and viewer.position.text() == "2 of 4"
    qtbot.keyClick(viewer, Qt.Key.Key_Left)
    qtbot.keyClick(viewer, Qt.Key.Key_Left)  # at the first: stays
    assert viewer.details.id == ids[0]
    fit = viewer.image.pixmap().size()
    vp = viewer.scroll_area.viewport().size()  # opened behind the tabs, it still fits the pane it is shown in
    assert fit.width() >= vp.width() - 2 or fit.height() >= vp.height() - 2
    qtbot.keyClick(viewer, Qt.Key.Key_Plus)
    qtbot.keyClick(viewer, Qt.Key.Key_Plus)
    bigger = viewer.image.pixmap().size()
    assert bigger.width() > fit.width() * 1.4
    qtbot.keyClick(viewer, Qt.Key.Key_0)
    assert viewer.zoom is None and viewer.image.pixmap().size() == fit
    viewer.set_zoom(1.0)  # what a double-click does: the photo's own pixels
    d = viewer.details
    assert max(viewer.image.pixmap().width(), viewer.image.pixmap().height()) == max(d.width, d.height)
    assert when("2018-07-14T16:05:00") == "Saturday 14 July 2018, 16:05" and when(None) == "unknown"
    assert "Landmark" not in viewer.info.toHtml()  # no landmark shown: no landmark line
    # a pane of the main window, in its tabs' place; F is full screen, Esc leaves it, then goes back to the
    # gallery with the photo last shown as its current one
    assert viewer.window() is window and window.photo_shown() and not window.tabs.isVisible()
    qtbot.keyClick(viewer, Qt.Key.Key_Right)
    qtbot.keyClick(viewer, Qt.Key.Key_F)
    qtbot.waitUntil(window.isFullScreen)
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    qtbot.waitUntil(lambda: not window.isFullScreen())
    assert window.photo_shown()
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)
    assert not window.photo_shown() and window.tabs.currentWidget() is window.library_page
    assert gallery.currentIndex().data(PhotoIdRole) == ids[1]


def test_timeline_newest_first_with_months_and_a_remembered_view(qtbot, make_settings, tmp_path: Path) -> None:
    """Newest first with a month list to jump through; the order and the thumbnail size are remembered."""
    from datetime import datetime

    from organizer.store.db import FileRef, NewPart, NewPhoto, PhotoInfo

    lib = Library(make_settings())
    import numpy as np

    when = [datetime(2019, 7, 3), datetime(2021, 1, 9), datetime(2021, 1, 20), None, datetime(2018, 12, 25)]
    photos = [NewPhoto(FileRef(f"/p/{i}.jpg", 1, 1), PhotoInfo(f"h{i}", 1, "JPEG", 8, 8, taken_at=t),
                       NewPart("whole", np.eye(32, dtype=np.float32)[i], "image")) for i, t in enumerate(when)]
    lib.store.add_photos(photos, lib.models.clip.key)
    w = MainWindow(lib)
    w.ask_on_close = lambda: True
    qtbot.addWidget(w)
    page = w.library_page
    assert page.sort.currentText() == "Newest first"
    rows = page.gallery.model_.rows
    assert [r.path for r in rows] == ["/p/2.jpg", "/p/1.jpg", "/p/0.jpg", "/p/4.jpg", "/p/3.jpg"]
    assert [(r.day_first, r.day_size) for r in rows] == [(i, 1) for i in range(5)]  # five days of one photo
    gallery = page.gallery
    w.resize(1400, 900)
    w.show()
    qtbot.waitExposed(w)
    tiles = [gallery.visualRect(gallery.model_.index(i)) for i in range(5)]
    side = gallery.iconSize().width()
    assert tiles[0].size() == QSize(side + 20, side + 40 + DAY_STRIP)  # a tile, the day named above it
    # days of one photo packed into one row (a date header took a row of its own, then each photo another)
    assert len({t.top() for t in tiles}) == 1 and tiles[4].right() < gallery.viewport().width()
    names = [gallery.itemDelegate().day_label(gallery.model_.index(i), tiles[i]) for i in range(5)]
    assert all(starts and span.width() == tiles[i].width() for i, (_, span, starts) in enumerate(names))
    assert names[0][0] in day_labels("2021-01-20", 1) and names[0][0].startswith(("Wed", "20 Jan"))
    assert names[4][0] in ("No date  (1)", "No date")
    assert gallery.fontMetrics().boundingRect(names[0][0]).width() < tiles[0].width()  # the name as it fits
    gallery.selectAll()
    assert sorted(gallery.selected_ids()) == sorted(gallery.model_.photo_ids())
    months = [page.timeline.item(i).text() for i in range(page.timeline.count())]
    assert months == ["January 2021 (2)", "July 2019 (1)", "December 2018 (1)", "No date (1)"]
    page.timeline.itemClicked.emit(page.timeline.item(2))
    assert page.gallery.currentIndex().row() == 3  # the first photo of December 2018
    page.sort.setCurrentIndex(1)  # oldest first
    page.size_slider.setValue(160)
    assert page.gallery.iconSize().width() == 160
    w.close()
    again = MainWindow(lib)  # a new start: as it was left
    again.ask_on_close = lambda: True
    qtbot.addWidget(again)
    assert again.library_page.sort.currentText() == "Oldest first" and again.library_page.gallery.iconSize().width() == 160
    assert again.library_page.gallery.model_.rows[0].path == "/p/4.jpg"
    again.close()
    w.wait_for_background()
    again.wait_for_background()


def test_a_dark_system_gets_a_dark_window(qapp, monkeypatch) -> None:
    from PySide6.QtGui import QPalette

    from organizer.gui import theme

    before, style = qapp.palette(), qapp.style().name()
    try:
        monkeypatch.setenv("ORGANIZER_THEME", "dark")
        theme.apply(qapp)
        assert qapp.palette().color(QPalette.ColorRole.Window).lightness() < 80
        assert qapp.palette().color(QPalette.ColorRole.WindowText).lightness() > 200
    finally:
        qapp.setStyle(style)
        qapp.setPalette(before)


def test_remove_and_label_many_photos_then_undo(qtbot, window: MainWindow, photo_dir: Path) -> None:
    index_by_drop(qtbot, window, photo_dir)
    gallery = window.library_page.gallery
    model = gallery.model_
    gallery.selectionModel().select(gallery.photo_index(0), QItemSelectionModel.SelectionFlag.Select)
    gallery.selectionModel().select(gallery.photo_index(1), QItemSelectionModel.SelectionFlag.Select)
    chosen = gallery.selected_ids()
    asked: list[str] = []
    window.ask_yes = lambda q: asked.append(q) or True
    gallery.remove_requested.emit(chosen)
    assert asked and len(model.photo_ids()) == 2 and window.lib.photo_count() == 2
    assert window.undo_action.isEnabled() and "remove 2 photos" in window.undo_action.text()
    window.undo_action.trigger()  # Ctrl+Z
    assert len(model.photo_ids()) == 4 and sorted(r.photo_id for r in gallery.model_.rows if r.photo_id in chosen) == sorted(chosen)
    assert window.lib.check().ok
    window.ask_label_name = lambda: "Holiday"
    gallery.label_requested.emit(chosen)
    assert sorted(window.lib.label_photo_ids("Holiday")) == sorted(chosen)
    window.undo_action.trigger()
    assert "Holiday" not in [i.name for i in window.lib.labels.list()]
    assert not window.undo_action.isEnabled()


def test_places_map_clusters_pins_and_a_click_shows_their_photos(qtbot, make_settings) -> None:
    import numpy as np

    from organizer.gui.basemap import country_rings
    from organizer.store.db import FileRef, NewPart, NewPhoto, PhotoInfo

    assert len(country_rings()) > 150  # the offline basemap
    lib = Library(make_settings())
    spots = [(38.72, -9.14), (38.71, -9.13), (35.68, 139.69)]  # two in Lisbon, one in Tokyo
    photos = [NewPhoto(FileRef(f"/p/{i}.jpg", 1, 1), PhotoInfo(f"h{i}", 1, "JPEG", 8, 8, gps_lat=a, gps_lon=b),
                       NewPart("whole", np.eye(32, dtype=np.float32)[i], "image")) for i, (a, b) in enumerate(spots)]
    ids = lib.store.add_photos(photos, lib.models.clip.key)
    w = MainWindow(lib)
    w.ask_on_close = lambda: True
    qtbot.addWidget(w)
    w.show()
    assert w.tabs.tabText(w.tabs.indexOf(w.projection_page)) == "Similarity"
    w.tabs.setCurrentWidget(w.places_page)
    view = w.places_page.map
    view.zoom = 1.0  # the whole world: Lisbon's two photos are one pin, Tokyo's another
    sizes = sorted(len(m) for _, m in view.recluster())
    assert sizes == [1, 2] and "3 photos with GPS" in w.places_page.status.text()
    lisbon = next(c for c, m in view.recluster() if len(m) == 2)
    qtbot.mouseClick(view, Qt.MouseButton.LeftButton, pos=lisbon.toPoint())
    assert sorted(w.places_page.gallery.model_.photo_ids()) == sorted(ids[:2])
    w.close()
    w.wait_for_background()


def test_delete_in_a_gallery_removes_its_selection(qtbot, window: MainWindow, photo_dir: Path) -> None:
    index_by_drop(qtbot, window, photo_dir)
    gallery = window.library_page.gallery
    gallery.setFocus()
    gallery.setCurrentIndex(gallery.photo_index(0))
    first = gallery.model_.photo_ids()[0]
    with qtbot.waitSignal(gallery.remove_requested, timeout=5000) as blocker:
        qtbot.keyClick(gallery, Qt.Key.Key_Delete)
    assert blocker.args[0] == [first] and window.lib.photo_count() == 3  # one photo: no question, Ctrl+Z undoes


def test_qt_calls_do_not_wear_down_none() -> None:
    """PySide6 6.12.0 under Python 3.11 released a reference to None at every call of a void method, so a
    window crashed ("deallocating None") after enough drawing: the pinned Qt must not."""
    import sys

    from PySide6.QtCore import QPointF
    from PySide6.QtGui import QImage, QPainter, QPainterPath

    path = QPainterPath()
    img = QImage(32, 32, QImage.Format.Format_RGB32)
    painter = QPainter(img)
    before = sys.getrefcount(None)
    for _ in range(2000):
        path.lineTo(1.0, 2.0)
        painter.drawEllipse(QPointF(5, 5), 3.0, 3.0)
    painter.end()
    assert sys.getrefcount(None) - before > -100  # 6.12.0: about -4000


def test_the_world_map_has_no_sliver_across_the_antimeridian(qapp) -> None:
    """Russia's far east and Antarctica cross the antimeridian: their outlines were cut into pieces whose
    closing edges filled the Sea of Okhotsk and left Kamchatka's north and the South Pole as sea."""
    from PySide6.QtCore import QPointF

    from organizer.gui.pages.places_page import land_path

    land = land_path()

    def on_land(lon: float, lat: float) -> bool:
        return land.contains(QPointF(lon, -lat))

    assert not on_land(148.0, 51.0)  # the Sea of Okhotsk
    assert on_land(170.0, 62.0) and on_land(-175.0, 67.0)  # Koryak and Chukotka, both sides of 180
    assert on_land(0.0, -87.0) and not on_land(0.0, -60.0)  # Antarctica reaches the pole; the Southern Ocean
    assert on_land(178.5, -17.5)  # Fiji


def test_a_search_that_ends_after_the_window_is_gone_does_nothing(qtbot, make_settings, monkeypatch) -> None:
    """A search still running when the window is closed and deleted used to deliver its results to the deleted
    window from the worker's thread ("Signal source has been deleted", which failed a test at random)."""
    import threading

    from PySide6.QtWidgets import QApplication
    from shiboken6 import isValid

    lib = Library(make_settings(ocr={"enabled": False}))
    w = MainWindow(lib)
    w.ask_on_close = lambda: True
    w.show()
    release, started = threading.Event(), threading.Event()
    errors: list[BaseException] = []
    real_hook = threading.excepthook
    monkeypatch.setattr(threading, "excepthook", lambda a: (errors.append(a.exc_value), real_hook(a)))

    def slow_search(query):  # noqa: ANN001, ARG001
        started.set()
        release.wait(20)
        return []

    monkeypatch.setattr(lib, "search", slow_search)
    w.run_search(object())
    assert started.wait(10)
    task = w.searches.tasks[-1]
    thread = task.qthread
    delivered: list[object] = []
    task.worker.done.connect(lambda r: delivered.append(r))  # the worker's own signal: it does finish
    monkeypatch.setattr("organizer.gui.window.QUIT_WAIT_MS", 50)
    w.close()
    w.deleteLater()
    QApplication.sendPostedEvents(None, 0)  # the deferred delete happens now
    qtbot.wait(50)
    assert not isValid(w)
    release.set()
    assert thread.wait(10_000)
    qtbot.wait(100)  # anything queued to the window would arrive now
    assert delivered == [[]] and not errors
    lib.close()


QUITTER = """
import sys, time
from PySide6.QtCore import QTimer
from organizer.gui import window as gw
real_show = gw.MainWindow.show
def show(self):
    real_show(self)
    def close():
        print("closing", time.time(), flush=True)
        self.close()
    QTimer.singleShot(int(sys.argv[3]), close)
gw.MainWindow.show = show
from organizer.cli import main
sys.exit(main(["gui", "--library", sys.argv[1], "--models", sys.argv[2]]))
"""


def test_the_process_ends_within_a_second_of_the_window_closing(tmp_path: Path, tiny_models: Path,
                                                                photo_dir: Path) -> None:
    """The window closed at once, but the process went on 3-6 s at 80% CPU tearing down the models' libraries."""
    import os
    import subprocess
    import sys
    import time

    lib = tmp_path / "lib"
    assert subprocess.run([sys.executable, "-m", "organizer", "index", str(photo_dir), "--library", str(lib),
                           "--models", str(tiny_models), "--quiet"], capture_output=True, timeout=300).returncode == 0
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    env.pop("PYTEST_CURRENT_TEST", None)
    # closed once the search model has warmed up (the window loads it 1.5 s after it shows)
    proc = subprocess.Popen([sys.executable, "-c", QUITTER, str(lib), str(tiny_models), "5000"], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    closed = float(line.split()[1]) if line.startswith("closing") else time.time()
    proc.wait(60)
    ended = time.time()
    assert proc.returncode == 0, proc.stderr.read() if proc.stderr else ""
    assert ended - closed < 1.0, f"{ended - closed:.2f} s"


def test_labels_are_renamed_deleted_and_emptied_in_the_window_undoably(qtbot, window: MainWindow,
                                                                       photo_dir: Path) -> None:
    """Double-click, Delete and right-click did nothing on the Labels page, and a photo could not be taken out
    of a label."""
    index_by_drop(qtbot, window, photo_dir)
    ids = [r.id for r in window.lib.photo_rows()]
    window.lib.label_photos("Trip", ids[:3])
    page = window.labels_page
    window.tabs.setCurrentWidget(page)
    page.list.setCurrentRow(0)
    assert page.members.model_.photo_ids() and len(page.members.model_.photo_ids()) == 3
    page.ask_text = lambda title, text: "Holiday"
    page.list.itemDoubleClicked.emit(page.list.item(0))
    assert window.lib.labels.names() == ["Holiday"] and page.current() == "Holiday"
    page.members.selectionModel().select(page.members.model_.index(page.members.model_.row_of(ids[0])),
                                         QItemSelectionModel.SelectionFlag.ClearAndSelect)
    qtbot.mouseClick(page.take_out, Qt.MouseButton.LeftButton)
    assert sorted(window.lib.label_photo_ids("Holiday")) == sorted(ids[1:3])
    page.ask_yes = lambda q: True
    page.ask_delete()
    assert window.lib.labels.names() == []
    window.undo()  # the delete
    window.undo()  # the photo taken out
    window.undo()  # the rename
    assert window.lib.labels.names() == ["Trip"] and sorted(window.lib.label_photo_ids("Trip")) == sorted(ids[:3])


def test_a_dropped_photo_replaces_the_typed_words(qtbot, window: MainWindow, photo_dir: Path) -> None:
    page = window.search_page
    page.box.setText("beach")
    page.set_image(str(photo_dir / "coffee.jpg"))
    assert page.box.text() == "" and page.query().image == str(photo_dir / "coffee.jpg")


def test_weight_sliders_say_their_value(qtbot, window: MainWindow) -> None:
    page = window.search_page
    assert page.weight_labels["person"].text() == "x1.0"
    page.sliders["person"].setValue(250)
    assert page.weight_labels["person"].text() == "x2.5"
    page.sliders["vehicle"].setValue(0)
    assert page.weight_labels["vehicle"].text() == "off"


def test_a_small_photo_is_not_blown_up_to_fill_the_pane(qtbot, window: MainWindow, tmp_path: Path) -> None:
    folder = tmp_path / "small"
    folder.mkdir()
    noise_image(3, (75, 100)).save(folder / "tiny.png")
    index_by_drop(qtbot, window, folder)
    window.resize(1200, 900)
    pid = window.lib.photo_rows()[0].id
    window.open_photo(pid, None)
    qtbot.wait(50)
    shown = window.viewer.image.pixmap()
    assert shown.width() <= 150 and shown.height() <= 200 and window.viewer.current_zoom() == 2.0  # at most 2x


def test_a_missing_photo_has_a_badge_on_its_picture(qtbot, window: MainWindow, photo_dir: Path) -> None:
    from organizer.gui.delegate import MISSING_COLOUR, _badge_rect
    from organizer.gui.models import Row

    index_by_drop(qtbot, window, photo_dir)
    gallery = window.people_page.photos  # any gallery, not only search results
    rows = [Row.of(r) for r in window.lib.photo_rows()][:2]
    rows[0].missing = True
    gallery.set_rows(rows)
    window.tabs.setCurrentWidget(window.people_page)
    qtbot.wait(50)

    def badge_pixel(row: int) -> tuple[int, int, int]:
        rect = gallery.visualRect(gallery.model_.index(row))
        from PySide6.QtWidgets import QStyleOptionViewItem

        opt = QStyleOptionViewItem()
        opt.rect = rect
        b = _badge_rect(opt)
        img = gallery.viewport().grab().toImage()
        c = img.pixelColor(int(b.x() + 4), int(b.center().y()))
        return c.red(), c.green(), c.blue()

    assert badge_pixel(0) == (MISSING_COLOUR.red(), MISSING_COLOUR.green(), MISSING_COLOUR.blue())
    assert badge_pixel(1) != (MISSING_COLOUR.red(), MISSING_COLOUR.green(), MISSING_COLOUR.blue())


def test_the_landmarks_page_says_whether_photos_are_still_to_be_checked(qtbot, window: MainWindow,
                                                                          photo_dir: Path) -> None:
    """It said "photos are checked while they are indexed" after everything was indexed."""
    page = window.landmarks_page
    page.show_counts([], unchecked=3)
    assert "3 photos still to be checked" in page.status.text()
    index_by_drop(qtbot, window, photo_dir)
    assert window.lib.landmarks_unchecked() == 0  # the run checked every photo
    window.tabs.setCurrentWidget(page)
    assert "still to be checked" not in page.status.text() and "yet" not in page.status.text()


def test_a_suggested_photo_is_asked_about_not_also_shown_as_theirs(qtbot, window: MainWindow,
                                                                   tmp_path: Path) -> None:
    """Suggestions appeared twice: in the person's photos and under "Do these show them too?"."""
    index_two_faces(qtbot, window, tmp_path)
    people = window.lib.people
    group = people.overview().people[0]
    people.name(str(group.number), "Eileen")
    window.lib.labels.remove("Eileen", [group.faces[1]])  # a face of hers, not named: suggested for her
    window.show_people()
    window._person_chosen("Eileen")
    page = window.people_page
    mine = set(page.photos.model_.photo_ids())
    asked = set(page.suggestions.model_.photo_ids())
    assert len(mine) == 1 and len(asked) == 1 and not mine & asked
    assert page.title.text() == "Eileen: 1 photo"
    # the face meant is outlined on each tile (a group shot is not ambiguous)
    asked_row = page.suggestions.model_.rows[page.suggestions.model_.row_of(next(iter(asked)))]
    assert [(p.type, p.part_id) for p in asked_row.parts] == [("face", group.faces[1])]


def test_the_thumbnail_slider_keeps_the_photos_in_view(qtbot, window: MainWindow) -> None:
    """The slider grew the cells past the pictures (cached at 192 px) and jumped away from the month shown."""
    from organizer.gui.models import Row
    from organizer.gui.thumbnails import SIZE

    page = window.library_page
    assert page.size_slider.maximum() == SIZE
    gallery = page.gallery
    gallery.set_rows([Row(i, f"/nowhere/{i}.jpg") for i in range(1, 601)])
    window.resize(1000, 800)
    qtbot.wait(50)
    gallery.scrollTo(gallery.model_.index(300), gallery.ScrollHint.PositionAtTop)
    top = gallery.indexAt(QPoint(gallery.spacing() + 4, gallery.spacing() + 4)).data(PhotoIdRole)
    page.size_slider.setValue(120)
    after = gallery.indexAt(QPoint(gallery.spacing() + 4, gallery.spacing() + 4)).data(PhotoIdRole)
    assert abs(after - top) <= 12, (top, after)  # the same row of photos, give or take a row


def test_full_screen_shows_the_photo_alone(qtbot, window: MainWindow, photo_dir: Path) -> None:
    """Full screen kept the menu, the side panel and the buttons."""
    index_by_drop(qtbot, window, photo_dir)
    window.open_photo(window.lib.photo_rows()[0].id, None)
    viewer = window.viewer
    viewer.toggle_full_screen()
    assert not viewer.side.isVisibleTo(window) and not window.menuBar().isVisibleTo(window)
    assert not window.statusBar().isVisibleTo(window)
    qtbot.keyClick(viewer, Qt.Key.Key_Escape)  # Esc leaves full screen first
    assert viewer.side.isVisibleTo(window) and window.menuBar().isVisibleTo(window) and window.photo_shown()


def test_places_opens_with_every_pin_in_view(qtbot, window: MainWindow) -> None:
    """Places opened showing 16 of 18 pins: it was zoomed for a 2:1 map whatever the map's size."""
    import numpy as np

    page = window.places_page
    rng = np.random.default_rng(4)
    lat, lon = rng.uniform(36, 60, 18), rng.uniform(-9, 28, 18)  # Europe, from Lisbon to Helsinki
    window.resize(1100, 650)
    window.tabs.setCurrentWidget(page)
    page.show_points([(i, float(a), float(o)) for i, (a, o) in enumerate(zip(lat, lon, strict=True))])
    qtbot.wait(50)
    m = page.map
    x, y = m.to_screen(lon, lat)
    assert (x > 0).all() and (x < m.width()).all() and (y > 0).all() and (y < m.height()).all()
    assert m.zoom > 3  # and zoomed in on them, not the whole world


def test_the_end_of_run_summary_is_shown_whole_until_the_next_run(qtbot, window: MainWindow, photo_dir: Path) -> None:
    """It was one line in the status bar, cut at the window's edge, gone after 15 s."""
    index_by_drop(qtbot, window, photo_dir)
    summary = window.library_page.summary
    assert summary.isVisibleTo(window) and summary.wordWrap()
    assert "4 new photos" in summary.text() and "\n" in summary.text()  # every line of it


def test_a_day_of_many_photos_is_named_once_across_its_tiles_and_again_where_it_goes_on(qtbot, tmp_path) -> None:
    from organizer.gui.models import Row
    from organizer.gui.pages.gallery import Gallery, with_days
    from organizer.gui.thumbnails import Thumbnails

    gallery = Gallery(Thumbnails(tmp_path))
    qtbot.addWidget(gallery)
    gallery.set_icon_side(100)
    gallery.resize(3 * 120 + 30, 800)  # three tiles a row
    rows = with_days([Row(i, f"/p/{i}.jpg", taken_at="2020-05-01T10:00:00" if i else "2020-05-02T09:00:00")
                      for i in range(8)])
    gallery.set_rows(rows)
    gallery.show()
    qtbot.waitExposed(gallery)
    rect = [gallery.visualRect(gallery.model_.index(i)) for i in range(8)]
    assert rect[0].top() == rect[1].top() == rect[2].top() < rect[3].top()  # the second day follows on row 1
    label = [gallery.itemDelegate().day_label(gallery.model_.index(i), rect[i]) for i in range(8)]
    assert label[0][1].width() == rect[0].width() and label[0][2]  # day one: one tile
    text, span, starts = label[1]
    assert starts and span.left() == rect[1].left() and span.width() == 2 * rect[1].width()  # across its two
    assert label[2][:2] == (text, span)  # the second tile paints its part of the same name
    assert text.endswith("(7)") and "1" in text
    text2, span2, starts2 = label[3]  # the day goes on at the start of the next row: named again, dimmed
    assert not starts2 and span2.left() == rect[3].left() and span2.width() == 3 * rect[3].width()


def test_a_video_is_marked_with_its_length_and_handed_to_a_player(qtbot, window: MainWindow, tmp_path: Path,
                                                                  monkeypatch) -> None:
    """The gallery marks a video with its length on its poster frame; the photo pane shows its length, lists its
    frames by time, and "Play in the video player" hands the file to the system's player."""
    from PySide6.QtGui import QDesktopServices

    from organizer.gui.models import DurationRole
    from organizer.media.mp4 import write_video

    folder = tmp_path / "clips"
    folder.mkdir()

    def scene(t: float) -> np.ndarray:
        f = np.zeros((240, 320, 3), np.uint8)
        f[:, : 160 if t < 15 else 320] = (200, 60, 40)
        return f

    write_video(folder / "walk.mp4", 42, scene)
    noise_image(1).save(folder / "still.jpg")
    index_by_drop(qtbot, window, folder)
    gallery = window.library_page.gallery
    model = gallery.model()
    lengths = {Path(r.path).name: model.index(i).data(DurationRole) for i, r in enumerate(gallery.model_.rows)}
    assert lengths == {"walk.mp4": 42.0, "still.jpg": None}
    gallery.viewport().grab()  # the badge is painted without error
    pid = next(r.photo_id for r in gallery.model_.rows if r.path.endswith("walk.mp4"))
    window.open_photo(pid, None)
    viewer = window.viewer
    assert not viewer.play_button.isHidden() and "Length" in viewer.info.toHtml() and "0:42" in viewer.info.toHtml()
    assert any(" at 0:" in viewer.parts.itemText(i) for i in range(viewer.parts.count()))
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    qtbot.mouseClick(viewer.play_button, Qt.MouseButton.LeftButton)
    assert opened and opened[0].endswith("walk.mp4")
    viewer.leave()
    still = next(r.photo_id for r in gallery.model_.rows if r.path.endswith("still.jpg"))
    window.open_photo(still, None)
    assert viewer.play_button.isHidden()


def test_the_newest_query_wins_and_the_undo_history_keeps_twenty(qtbot) -> None:
    """The window's controllers on their own: a slow older search that ends after a newer one is never shown
    over it; the undo history keeps the newest 20 actions, says what Undo would undo, and reports an undo that
    failed instead of raising."""
    import threading

    from organizer.gui.controllers.search import Searches
    from organizer.gui.controllers.undo import UndoHistory

    slow = threading.Event()

    def search(query: str) -> list[str]:
        if query == "old":
            slow.wait(10)
        return [query]

    searches = Searches(search)
    shown: list[list[str]] = []
    searches.finished.connect(shown.append)
    searches.run("old")
    with qtbot.waitSignal(searches.finished, timeout=10_000):
        searches.run("new")
    slow.set()
    qtbot.waitUntil(lambda: not any(t.running() for t in searches.tasks), timeout=10_000)
    qtbot.wait(100)  # the old answer, had it been delivered, would be here now
    assert shown == [["new"]]

    history = UndoHistory()
    said: list[str] = []
    history.changed.connect(said.append)
    undone: list[int] = []
    for i in range(25):
        history.push(f"step {i}", lambda i=i: undone.append(i))
    assert said[-1] == "step 24"
    for _ in range(20):
        assert history.undo() is not None
    assert undone == list(range(24, 4, -1)) and history.undo() is None and said[-1] == ""

    def broken() -> None:
        raise RuntimeError("the label is gone")

    history.push("rename", broken)
    what, error = history.undo()
    assert what == "rename" and isinstance(error, RuntimeError)


def test_the_photo_pane_shows_a_raw_and_its_own_pixels(qtbot, window: MainWindow, tmp_path: Path) -> None:
    """A DNG dropped on the window is shown from its preview, upright; zooming to actual size demosaics the
    sensor's own pixels (LibRaw), the outlines kept. The pane names the lens."""
    from organizer.media.dng import write_dng

    folder = tmp_path / "card"
    folder.mkdir()
    mosaic = np.zeros((480, 640, 3), np.uint8)
    mosaic[:, :320] = (210, 40, 40)
    preview = np.zeros((960, 1280, 3), np.uint8)
    preview[:, :640] = (210, 40, 40)
    write_dng(folder / "DSC_0001.dng", mosaic, preview, orientation=6, lens="NIKKOR Z 50mm f/1.8 S")
    index_by_drop(qtbot, window, folder)
    gallery = window.library_page.gallery
    (row,) = gallery.model_.rows
    window.open_photo(row.photo_id, None)
    viewer = window.viewer
    shown = viewer._pixmap
    assert shown is not None and (shown.width(), shown.height()) == (960, 1280)  # the preview, turned upright
    assert "480 x 640 (DNG)" in viewer.info.toHtml() and "NIKKOR Z 50mm f/1.8 S" in viewer.info.toHtml()
    viewer.set_zoom(4.0)  # closer than the preview allows: the photo's own pixels
    full = viewer._pixmap
    assert full is not None and (full.width(), full.height()) == (480, 640)
    top = full.toImage().pixelColor(240, 20)
    assert top.red() > top.blue() + 60  # red on top: the sensor's left, turned upright once


def test_pairs_are_marked_and_a_live_photo_plays_its_clip(qtbot, window: MainWindow, tmp_path: Path,
                                                          monkeypatch) -> None:
    """A RAW+JPEG pair is one tile marked "RAW"; a Live Photo one tile marked "LIVE" whose pane plays its clip."""
    from PIL import Image
    from PySide6.QtGui import QDesktopServices

    from organizer.gui.models import KindRole
    from organizer.media.dng import write_dng
    from organizer.media.mp4 import write_video

    folder = tmp_path / "phone"
    folder.mkdir()
    picture = np.zeros((480, 640, 3), np.uint8)
    picture[:, :320] = (200, 60, 40)
    write_dng(folder / "DSC_0001.dng", picture)
    Image.fromarray(picture).save(folder / "DSC_0001.jpg")
    Image.fromarray(picture[:, ::-1].copy()).save(folder / "IMG_0002.jpg")  # another picture
    write_video(folder / "IMG_0002.mov", 3, lambda t: picture)
    noise_image(3).save(folder / "plain.jpg")
    index_by_drop(qtbot, window, folder)
    gallery = window.library_page.gallery
    kinds = {Path(r.path).name: gallery.model().index(i).data(KindRole) for i, r in enumerate(gallery.model_.rows)}
    assert kinds == {"DSC_0001.jpg": "RAW", "IMG_0002.jpg": "LIVE", "plain.jpg": None}
    gallery.viewport().grab()
    opened: list[str] = []
    monkeypatch.setattr(QDesktopServices, "openUrl", lambda url: opened.append(url.toLocalFile()) or True)
    window.open_photo(next(r.photo_id for r in gallery.model_.rows if r.path.endswith("IMG_0002.jpg")), None)
    assert window.viewer.play_button.text() == "Play the motion clip"
    qtbot.mouseClick(window.viewer.play_button, Qt.MouseButton.LeftButton)
    assert opened and opened[0].endswith("IMG_0002.mov")
