"""The main window: pages over the library, a background worker for long work, progress, drops, errors."""

from __future__ import annotations

import contextlib
import logging
import os
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from organizer.errors import OrganizerError
from organizer.gui.models import Row
from organizer.gui.pages.clusters_page import ClustersPage
from organizer.gui.pages.gallery import LibraryPage
from organizer.gui.pages.labels_page import LabelsPage
from organizer.gui.pages.landmarks_page import LandmarksPage
from organizer.gui.pages.people_page import PeoplePage
from organizer.gui.pages.places_page import PlacesPage
from organizer.gui.pages.projection_page import ProjectionPage
from organizer.gui.pages.search_page import SearchPage
from organizer.gui.pages.settings_page import SettingsPage
from organizer.gui.thumbnails import SIZE, Thumbnails
from organizer.gui.viewer import PhotoViewer
from organizer.gui.worker import Task, call
from organizer.library import Library
from organizer.progress import Notice, Progress, Skipped, Stored, Summary
from organizer.wording import index_summary, phase_name, plural, skip_line

log = logging.getLogger(__name__)

WARM_AFTER_MS = 1500  # the window is drawn and usable first; then the search model loads behind it
OFFLINE_CHECK_AFTER_MS = 300  # the first check of the library's folders, once the window is drawn
QUIT_WAIT_MS = 300  # at quit, how long a cancelled step may take before the window goes anyway
OUTSIDE_CHECK_MS = 3000  # how often the window looks for photos another organizer (the CLI) added or removed


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f", {s // 60}:{s % 60:02d} left" if s >= 1 else ""


@dataclass(frozen=True, slots=True)
class FaceMark:
    """A face to outline on a tile (as a search result's matching part is): the People page's photos."""

    part_id: int
    box: tuple[float, float, float, float]
    type: str = "face"


class MainWindow(QMainWindow):
    indexing_finished = Signal(object)  # Summary, or None when cancelled or failed
    search_finished = Signal(int)  # number of results
    task_finished = Signal(str)  # "clusters", "projection"
    message_shown = Signal(str)
    offline_found = Signal(object)  # the folders found offline by a check off the UI thread
    search_result = Signal(int, object)  # (query serial, results) from the search thread
    search_error = Signal(int, str)

    def __init__(self, library: Library) -> None:
        super().__init__()
        self.lib = library
        self.setWindowTitle("organizer")
        self.resize(1280, 820)
        self.setAcceptDrops(True)
        self.thumbs = Thumbnails(library.folder, self)
        s = library.settings
        self.library_page = LibraryPage(self.thumbs)
        self.search_page = SearchPage(self.thumbs, s.search.weights, s.search.threshold, s.search.top_k)
        self.clusters_page = ClustersPage(self.thumbs)
        self.projection_page = ProjectionPage(self.thumbs)
        self.landmarks_page = LandmarksPage(self.thumbs)
        self.labels_page = LabelsPage(self.thumbs)
        self.people_page = PeoplePage(self.thumbs)
        self.places_page = PlacesPage(self.thumbs)
        self.settings_page = SettingsPage(s)
        self.tabs = QTabWidget()
        for page, name in ((self.library_page, "Library"), (self.search_page, "Search"),
                           (self.people_page, "People"), (self.places_page, "Places"),
                           (self.clusters_page, "Clusters"), (self.projection_page, "Similarity"),
                           (self.landmarks_page, "Landmarks"), (self.labels_page, "Labels"),
                           (self.settings_page, "Settings")):
            self.tabs.addTab(page, name)
        # the photo viewer is a pane that takes the tabs' place; Esc goes back to where it was opened from
        self.viewer = PhotoViewer(fetch=library.photo_details)
        self.viewer.label_part.connect(self.label_part)
        self.viewer.closed.connect(self.close_photo)
        self.viewer.full_screen.connect(self._full_screen)
        self._viewer_from: Any = None  # the gallery the shown photo was opened from
        self.stack = QStackedWidget()
        self.stack.addWidget(self.tabs)
        self.stack.addWidget(self.viewer)
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("QLabel { background: #5a1d1d; color: white; padding: 6px; }")
        self.message_box = QWidget()
        close_message = QToolButton()
        close_message.setText("\u2715")
        close_message.setToolTip("Close this message")
        close_message.setAutoRaise(True)
        close_message.clicked.connect(self.hide_message)
        self.close_message = close_message
        row = QHBoxLayout(self.message_box)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.message, 1)
        row.addWidget(close_message)
        self.message_box.setVisible(False)
        self.progress = QProgressBar()
        self.progress_label = QLabel()
        self.pause_button = QPushButton("Pause")
        self.cancel_button = QPushButton("Cancel")
        self.skipped_button = QPushButton("Skipped: 0")
        self.skipped_list = QListWidget()
        self.skipped_list.setVisible(False)
        self.skipped_list.setMaximumHeight(140)
        bar = QHBoxLayout()
        bar.addWidget(self.progress, 2)
        bar.addWidget(self.progress_label, 3)
        bar.addWidget(self.pause_button)
        bar.addWidget(self.cancel_button)
        bar.addWidget(self.skipped_button)
        self.progress_box = QWidget()
        self.progress_box.setLayout(bar)
        self.progress_box.setVisible(False)
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.message_box)
        layout.addWidget(self.stack, 1)
        layout.addWidget(self.progress_box)
        layout.addWidget(self.skipped_list)
        self.setCentralWidget(central)
        self.drop_hint = QLabel("Drop to add these folders and photos to the library", self)
        self.drop_hint.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.drop_hint.setStyleSheet("QLabel { border: 3px dashed #3d7bd9; border-radius: 12px; font-size: 20px; "
                                     "color: #3d7bd9; background: rgba(61, 123, 217, 30); }")
        self.drop_hint.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        self.drop_hint.hide()
        self._menus()

        self.task: Task | None = None
        self._stopping: list[Task] = []  # cancelled at quit, still ending a long step
        self.offline: list[tuple[str, int]] = []  # folders not there at the last check, with their photo counts
        self._offline_thread: threading.Thread | None = None
        self._offline_again = False
        self._closed = False
        self._queued_analysis: tuple[str, bool, bool] | None = None  # asked for while another run ran
        self.undo_stack: list[tuple[str, Callable[[], None]]] = []  # (what, how to undo it), latest last
        self.task_kind = ""
        self.queue: list[list[str]] = []
        self._search_serial = 0
        self.ask_on_close: Callable[[], bool] = self._ask_on_close
        self._closing = False
        self._refresh_timer = QTimer(self)
        self._refresh_timer.setSingleShot(True)
        self._refresh_timer.setInterval(700)
        self._refresh_timer.timeout.connect(self.refresh_library)

        self.pause_button.clicked.connect(self.toggle_pause)
        self.cancel_button.clicked.connect(self.cancel)
        self.skipped_button.clicked.connect(lambda: self.skipped_list.setVisible(not self.skipped_list.isVisible()))
        # how the window was left (sort, thumbnail size), beside the settings file in use
        self.view_settings = QSettings(str(self.lib.settings.file.with_name("window.ini")), QSettings.Format.IniFormat)
        self.library_page.sort.setCurrentIndex(int(self.view_settings.value("library/sort", 0)))
        self.library_page.size.setValue(int(self.view_settings.value("library/thumbnail", SIZE)))
        self.library_page.sort.currentIndexChanged.connect(
            lambda i: (self.view_settings.setValue("library/sort", i), self._show_library()))
        self.library_page.size.valueChanged.connect(lambda v: self.view_settings.setValue("library/thumbnail", v))
        self.library_page.filter.currentIndexChanged.connect(lambda _: self._show_library())
        self.library_page.locate.connect(self.locate_folder)
        self.library_page.forget.connect(self.forget_folder)
        self.library_page.problems.connect(self.show_problem_files)
        self.ask_folder: Callable[[str], str | None] = self._ask_folder
        self.ask_yes: Callable[[str], bool] = self._ask_yes
        for gallery in (self.library_page.gallery, self.search_page.results, self.clusters_page.gallery,
                        self.landmarks_page.gallery, self.labels_page.members, self.labels_page.suggestions,
                        self.people_page.photos, self.people_page.suggestions, self.places_page.gallery):
            gallery.opened.connect(lambda pid, parts, g=gallery: self.open_photo(pid, parts, g.model_.photo_ids(), g))
            gallery.label_requested.connect(self.label_photos)
            gallery.remove_requested.connect(self.remove_photos)
            gallery.reveal_requested.connect(self.reveal_photos)
        self.labels_page.chosen.connect(self._label_chosen)
        self.people_page.chosen.connect(self._person_chosen)
        self.places_page.chosen.connect(lambda ids: self.places_page.gallery.set_rows(
            [Row.of(r) for r in self.lib.photo_rows("newest", photo_ids=ids)]))
        self.people_page.renamed.connect(self._person_renamed)
        self.people_page.answered.connect(self._person_answered)
        self.people_page.moved_out.connect(lambda ref, ids: self._person_answered(ref, ids, False))
        self._overview: Any = None
        self.labels_page.answered.connect(self._label_answered)
        self.labels_page.renamed.connect(self._label_renamed)
        self.labels_page.deleted.connect(self._label_deleted)
        self.labels_page.taken_out.connect(self._label_taken_out)
        self.ask_label_name: Callable[[], str | None] = self._ask_label_name
        self.search_page.query_changed.connect(self.run_search)
        self.clusters_page.compute.connect(lambda parts, force: self.run_analysis("clusters", parts, force))
        self.clusters_page.chosen.connect(self._cluster_chosen)
        self.projection_page.compute.connect(lambda parts, force: self.run_analysis("projection", parts, force))
        self.projection_page.open_photo.connect(lambda pid: self.open_photo(pid, None))
        self.projection_page.open_set.connect(self.open_set)
        self.landmarks_page.chosen.connect(self._landmark_chosen)
        self.settings_page.failed.connect(self.show_message)
        self.settings_page.saved.connect(self._settings_saved)
        self.warmed.connect(self._warmed)
        self.offline_found.connect(self._offline_checked)
        self.search_result.connect(self._search_done)
        self.search_error.connect(self._search_failed)
        QTimer.singleShot(WARM_AFTER_MS, self.warm_up)
        self.tabs.currentChanged.connect(self._tab_changed)
        QShortcut(QKeySequence.StandardKey.Find, self, activated=self.focus_search)
        QShortcut(QKeySequence(Qt.Key.Key_Escape), self, activated=self._escape)
        self._show_library()
        QTimer.singleShot(OFFLINE_CHECK_AFTER_MS, self._check_offline)  # not competing with the first drawing
        QTimer.singleShot(0, self.resume_pending)
        self._stamp = self.lib.change_stamp()
        self._outside_timer = QTimer(self)
        self._outside_timer.setInterval(OUTSIDE_CHECK_MS)
        self._outside_timer.timeout.connect(self._check_outside)
        self._outside_timer.start()
        failed = self.lib.backup_failed()
        if failed:  # a safety net that stopped working is said, not only logged
            self.show_message(f"Backups are failing: {failed}. Free some space or check the library folder; "
                              "the next backup is tried when the window closes.")

    # ---- menus and keys ----------------------------------------------------------------------

    def _menus(self) -> None:
        file = self.menuBar().addMenu("&File")
        add = QAction("Add &Folder...", self, shortcut=QKeySequence("Ctrl+O"), triggered=self.choose_folder)
        add_files = QAction("Add F&iles...", self, triggered=self.choose_files)
        quit_ = QAction("&Quit", self, shortcut=QKeySequence.StandardKey.Quit, triggered=self.close)
        for a in (add, add_files, quit_):
            file.addAction(a)
        edit = self.menuBar().addMenu("&Edit")
        self.undo_action = QAction("&Undo", self, shortcut=QKeySequence.StandardKey.Undo, triggered=self.undo)
        self.undo_action.setEnabled(False)
        edit.addAction(self.undo_action)

    def focus_search(self) -> None:
        self.stack.setCurrentWidget(self.tabs)
        self.tabs.setCurrentWidget(self.search_page)
        self.search_page.box.setFocus()
        self.search_page.box.selectAll()

    def _escape(self) -> None:
        if self.photo_shown():
            self.viewer.escape()
            return
        if self.tabs.currentWidget() is self.search_page:
            self.search_page.box.clear()
            self.search_page.set_image(None)
        self.hide_message()

    def choose_folder(self) -> None:
        d = QFileDialog.getExistingDirectory(self, "Add a folder of photos")
        if d:
            self.add_paths([d])

    def choose_files(self) -> None:
        files, _ = QFileDialog.getOpenFileNames(self, "Add photos")
        if files:
            self.add_paths(files)

    # ---- drops -------------------------------------------------------------------------------

    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802
        if e.mimeData().hasUrls():
            e.acceptProposedAction()
            self._show_drop_hint(True)

    def dragLeaveEvent(self, e: Any) -> None:  # noqa: N802
        self._show_drop_hint(False)

    def _show_drop_hint(self, on: bool) -> None:
        """While something is dragged over the window: a dashed frame and what a drop does."""
        hint = self.drop_hint
        if on:
            hint.setGeometry(self.centralWidget().geometry().adjusted(8, 8, -8, -8))
            hint.raise_()
        hint.setVisible(on)

    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802
        self._show_drop_hint(False)
        paths = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.add_paths(paths)
            e.acceptProposedAction()

    # ---- messages ----------------------------------------------------------------------------

    def show_message(self, text: str) -> None:
        self.message.setText(text)
        self.message_box.setVisible(True)
        self.statusBar().showMessage(text.split("\n")[0], 10000)
        self.message_shown.emit(text)

    warmed = Signal(str)  # the search model is loaded ("" ) or could not be (the reason)

    def warm_up(self) -> None:
        """Load the search model in the background soon after the window shows, and say so, so that the
        first search does not wait for it. A daemon thread: quitting never waits for a model load."""
        if self.lib.search_model_loaded() or (self.task is not None and self.task.running()):
            return
        self.statusBar().showMessage("Loading the search model in the background...")

        def load() -> None:
            try:
                self.lib.load_search_model()
                error = ""
            except Exception as e:  # noqa: BLE001 - shown when a search needs it
                error = str(e) or type(e).__name__
            with contextlib.suppress(RuntimeError):  # the window was closed meanwhile
                self.warmed.emit(error)

        threading.Thread(target=load, name="warm-up", daemon=True).start()

    def _warmed(self, error: str) -> None:
        self.statusBar().showMessage("Search is ready." if not error else "The search model could not be loaded "
                                     "yet; a search will say why.", 5000)

    def hide_message(self) -> None:
        self.message_box.setVisible(False)

    def _settings_saved(self, new: Any) -> None:
        later = self.lib.apply_settings(new)
        self.statusBar().showMessage("Settings saved; they apply now" + (
            f", except the {' and '.join(later)}: restart organizer for those." if later else "."), 15000)

    # ---- indexing ----------------------------------------------------------------------------

    def add_paths(self, paths: list[str]) -> None:
        if self.task is not None and self.task.running():
            self.queue.append(paths)
            queued = sum(len(p) for p in self.queue)
            self.statusBar().showMessage(f"Queued {plural(queued, 'item')}; they are indexed after the current run.")
            return
        self.skipped_list.clear()
        self.skipped_button.setText("Skipped: 0")
        self._start("index", lambda: self.lib.index(paths))

    def resume_pending(self) -> None:
        """Finish what a closed or killed run left, in the background (models load there too)."""
        def resume() -> Iterator[Any]:
            if self.lib.pending_work():  # an unfinished scan (the core keeps its roots) or pass
                yield Notice("Resuming the last run.")
                yield from self.lib.index([])

        if (self.lib.pending_roots() or self.lib.photo_count()) and not (
                self.task is not None and self.task.running()):
            self._start("index", resume)

    def _start(self, kind: str, make: Callable[[], Iterator[Any]]) -> None:
        if self._closed:  # a timer that fired after the window closed starts nothing
            return
        self.task_kind = kind
        if kind == "index":
            self.library_page.show_summary([])  # the last run's summary gives way to this one's progress
        self.task = Task(make, self)
        w = self.task.worker
        w.event.connect(self._on_event)
        w.done.connect(self._on_done)
        w.failed.connect(self._on_failed)
        w.cancelled.connect(self._on_cancelled)
        self.progress_box.setVisible(True)
        self.progress.setRange(0, 0)
        self.progress_label.setText("Starting...")
        self.pause_button.setText("Pause")
        self.task.start()

    def toggle_pause(self) -> None:
        if self.task is None:
            return
        w = self.task.worker
        if w.paused:
            w.resume()
            self.pause_button.setText("Pause")
        else:
            w.pause()
            self.pause_button.setText("Resume")
            self.progress_label.setText(self.progress_label.text() + " (paused)")

    def cancel(self) -> None:
        if self.task is not None and self.task.running():
            self.progress_label.setText("Cancelling...")
            self.task.worker.cancel()

    def _on_event(self, ev: Any) -> None:
        if isinstance(ev, Progress):
            if ev.total:
                self.progress.setRange(0, ev.total)
                self.progress.setValue(ev.done)
            else:
                self.progress.setRange(0, 0)
            name = phase_name(ev.phase)
            if ev.phase == "download":
                rate = f", {ev.rate / 1e6:.1f} MB/s" if ev.rate else ""
                count = f" {ev.done / 1e6:.0f}/{ev.total / 1e6:.0f} MB" if ev.total else f" {ev.done / 1e6:.0f} MB"
                if ev.total > 2**31 - 1:
                    self.progress.setRange(0, 1000)
                    self.progress.setValue(int(ev.done / ev.total * 1000))
            else:
                rate = f", {ev.rate:.1f}/s" if ev.rate else ""
                count = f" {ev.done}/{ev.total}" if ev.total else ""
            current = f" - {Path(ev.path).name}" if ev.path and "/" in ev.path else (f" - {ev.path}" if ev.path else "")
            paused = " (paused)" if self.task is not None and self.task.worker.paused else ""  # kept while paused
            self.progress_label.setText(f"{name}{count}{rate}{_eta(ev.eta)}{current}{paused}")
        elif isinstance(ev, Skipped):
            self.skipped_list.addItem(skip_line(ev.path, ev.reason, ev.detail))
            self.skipped_button.setText(f"Skipped: {self.skipped_list.count()}")
        elif isinstance(ev, Stored):
            if not self._refresh_timer.isActive():
                self._refresh_timer.start()
        elif isinstance(ev, Notice):
            self.statusBar().showMessage(ev.message, 8000)

    def _finish(self) -> None:
        self.progress_box.setVisible(False)
        kind, self.task_kind = self.task_kind, ""
        self.task = None
        if kind == "index":
            self.refresh_library()
            if self.queue:
                self.add_paths(self.queue.pop(0))
        if self._queued_analysis is not None and self.task is None:
            queued, self._queued_analysis = self._queued_analysis, None
            QTimer.singleShot(0, lambda: self.run_analysis(*queued))

    def _on_done(self, last: Any) -> None:
        kind = self.task_kind
        if kind == "index":
            self._finish()
            self.hide_message()  # a run that succeeded: the error of an earlier one is history
            if isinstance(last, Summary):
                lines = index_summary(last)
                self.statusBar().showMessage(lines[0], 15000)
                self.library_page.show_summary(lines)  # whole and wrapped, until the next run
            self.indexing_finished.emit(last if isinstance(last, Summary) else None)
            return
        self._finish()
        if kind == "clusters":
            covers = {c.cover_photo_id for c in last.clusters if c.cover_photo_id}
            rows = {r.id: (r.path, r.hash) for r in self.lib.photo_rows(photo_ids=list(covers))}
            self._cluster_result = last
            self.clusters_page.show_result(last, rows)
        elif kind == "projection":
            rows = {r.id: (r.path, r.hash) for r in self.lib.photo_rows(
                photo_ids=sorted(set(last.points.photo_ids.tolist())))}
            self.projection_page.show_result(last, rows)
        self.task_finished.emit(kind)

    def _on_failed(self, message: str) -> None:
        kind = self.task_kind
        self._finish()
        self.show_message(message)
        if kind == "index":
            self.indexing_finished.emit(None)
        else:
            self.task_finished.emit(kind)

    def _on_cancelled(self) -> None:
        kind = self.task_kind
        self._finish()
        self.statusBar().showMessage("Cancelled. Everything stored so far is kept; add the folder again to go on.",
                                     15000)
        if kind == "index":
            if not self._closing:  # closing keeps the pending folders: the next start resumes them
                self.lib.clear_pending()
            self.indexing_finished.emit(None)
        else:
            self.task_finished.emit(kind)

    # ---- pages -------------------------------------------------------------------------------

    def refresh_library(self) -> None:
        """The library page from the store at once, with the folders last found offline; whether folders are
        there is checked off the UI thread (an unplugged network drive can take many seconds to answer), and
        the page is shown again when that changes what is offline."""
        self._stamp = self.lib.change_stamp()
        self._show_library()
        self._check_offline()

    def _check_outside(self) -> None:
        """Photos another organizer added or removed (`organizer index` or `forget` in a terminal) appear here
        within a few seconds; one cheap query while nothing of the window's own is running."""
        if self._closed or self._closing or (self.task is not None and self.task.running()):
            return
        try:
            if self.lib.change_stamp() != self._stamp:
                self.refresh_library()
        except OrganizerError:
            pass  # the library is busy or gone for a moment: the next tick looks again

    def _check_offline(self) -> None:
        if self._closed or self._closing:
            return
        if self._offline_thread is not None and self._offline_thread.is_alive():
            self._offline_again = True  # one more check when this one ends
            return

        def run() -> None:  # a plain daemon thread: one stuck on a dead network drive never holds up quitting
            try:
                gone = self.lib.offline_folders()
                self.offline_found.emit(gone)  # queued to the UI thread
            except Exception:  # noqa: BLE001 - the window or the library went meanwhile; the next check tells
                log.debug("folder check ended early", exc_info=True)

        self._offline_thread = threading.Thread(target=run, name="organizer-folder-check", daemon=True)
        self._offline_thread.start()

    def _offline_checked(self, gone: list[tuple[str, int]]) -> None:
        if self._closed:
            return
        if gone != self.offline:
            self.offline = gone
            if self.library_page.mark_offline(self._offline_prefixes()):  # in place: no new layout
                self.library_page.show_offline(gone)
            else:
                self._show_library()
        if self._offline_again:
            self._offline_again = False
            QTimer.singleShot(0, self._check_offline)

    def _offline_prefixes(self) -> tuple[str, ...]:
        return tuple(f.rstrip(os.sep) + os.sep for f, _ in self.offline)

    def _show_library(self) -> None:
        gone = self.offline
        offline = self._offline_prefixes()
        rows = [Row.of(r, missing=bool(offline) and r.path.startswith(offline))
                for r in self.lib.photo_rows(self.library_page.order())]
        self.library_page.show_rows(rows)
        self.library_page.show_offline(gone)
        skipped, missing = self.lib.problem_counts()
        self.library_page.show_problems(skipped, missing)
        if missing:
            self.statusBar().showMessage(f"{plural(missing, 'photo')} missing: their files were "
                                         "not found at the last scan (kept; `organizer status` lists them).", 15000)

    def _tab_changed(self, _i: int) -> None:
        page = self.tabs.currentWidget()
        if page is self.landmarks_page:
            self.landmarks_page.show_counts(self.lib.landmark_counts(), self.lib.landmarks_unchecked())
        elif page is self.labels_page:
            self.labels_page.show_labels(self.lib.labels.list())
        elif page is self.people_page:
            self.show_people()
        elif page is self.places_page:
            self.places_page.show_points(self.lib.gps_points())
        elif page is self.clusters_page and self.clusters_page.list.count() == 0 and self.task_kind != "clusters":
            self.run_analysis("clusters", self.clusters_page.parts.isChecked(), False)
        elif (page is self.projection_page and not len(self.projection_page.photo_ids)
              and self.task_kind != "projection"):
            self.run_analysis("projection", self.projection_page.parts.isChecked(), False)

    def run_analysis(self, kind: str, parts: bool, force: bool) -> None:
        if self.task is not None and self.task.running():  # after the run (a restart resumes indexing)
            self._queued_analysis = (kind, parts, force)
            page = self.clusters_page if kind == "clusters" else self.projection_page
            page.status.setText("Waiting for the current run to finish; this starts right after it.")
            return
        mode = "parts" if parts else "whole"
        self._start(kind, (lambda: self.lib.clusters(mode, force)) if kind == "clusters" else
                    (lambda: self.lib.project(mode, force)))

    def _cluster_chosen(self, label: int) -> None:
        result = getattr(self, "_cluster_result", None)
        if result is None:
            return
        chosen = next((c for c in result.clusters if c.label == label), None)
        ids = chosen.photo_ids if chosen else []
        self.clusters_page.gallery.set_rows([Row.of(r) for r in self.lib.photo_rows(photo_ids=ids)])

    def _landmark_chosen(self, name: str) -> None:
        self.landmarks_page.gallery.set_rows([Row.of(r) for r in self.lib.photo_rows(landmark=name)])

    # ---- labels ------------------------------------------------------------------------------

    def _ask_label_name(self) -> str | None:
        from PySide6.QtWidgets import QInputDialog

        # empty at first, never a name chosen for the user: Enter on a pre-filled first name mislabelled photos
        names = ["", *sorted(self.lib.labels.names(), key=str.lower)]
        name, ok = QInputDialog.getItem(self, "Label as", "Name (a person, a place, a pet):", names, 0, True)
        return name.strip() if ok and name.strip() else None

    def label_photos(self, photo_ids: list[int]) -> None:
        self._label_items(lambda name: self.lib.label_photos(name, photo_ids),
                          lambda: self.lib.labels.whole_parts(photo_ids))

    def label_part(self, part_id: int) -> None:
        self._label_items(lambda name: self.lib.label_parts(name, [part_id]), lambda: [part_id])
        if self.photo_shown():  # the new label on the part's outline
            details = self.lib.photo_details(self.viewer.details.id)
            if details is not None:
                self.viewer.show_details(details)

    def _label_items(self, add: Callable[[str], int], parts: Callable[[], list[int]]) -> None:
        name = self.ask_label_name()
        if not name:
            return
        try:
            touched = parts()
            snap = self.lib.labels.snapshot(touched)
            added = add(name)
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
            return
        self.push_undo(f"label {name}", lambda: self.lib.labels.restore(snap, touched))
        self.statusBar().showMessage(f"{name}: {added} added. Type its name in search to find it.", 8000)
        if self.tabs.currentWidget() is self.labels_page:
            self.labels_page.show_labels(self.lib.labels.list())

    def _label_chosen(self, name: str) -> None:
        ids = self.lib.label_photo_ids(name)
        self.labels_page.members.set_rows([Row.of(r) for r in self.lib.photo_rows(photo_ids=ids)])
        sugg = []
        if self.lib.label_has_concept(name):  # a person's label holds faces: the People page suggests for them
            try:
                sugg = self.lib.suggest(name, 30)
            except Exception as e:  # noqa: BLE001
                self.show_message(str(e))
        self.labels_page.suggestions.set_rows([Row(r.photo_id, r.path, r.hash, r.score, r.parts) for r in sugg])

    def _labels_changed(self, select: str | None = None) -> None:
        self.labels_page.show_labels(self.lib.labels.list())
        for i in range(self.labels_page.list.count()):
            if self.labels_page.list.item(i).data(Qt.ItemDataRole.UserRole) == select:
                self.labels_page.list.setCurrentRow(i)

    def _label_renamed(self, old: str, new: str) -> None:
        labels = self.lib.labels
        self._curate(f"rename {old}", labels.all_members(old), lambda: labels.rename(old, new))
        self._labels_changed(new)

    def _label_deleted(self, name: str) -> None:
        labels = self.lib.labels
        self._curate(f"delete {name}", labels.all_members(name), lambda: labels.remove(name))
        self._labels_changed()
        self.labels_page.members.set_rows([])
        self.labels_page.suggestions.set_rows([])

    def _label_taken_out(self, name: str, photo_ids: list[int]) -> None:
        labels = self.lib.labels
        parts = self.lib.label_parts_of(name, photo_ids)
        self._curate(f"take {plural(len(photo_ids), 'photo')} out of {name}", parts,
                     lambda: labels.remove(name, parts))
        self._label_chosen(name)
        self._labels_changed(name)

    def _label_answered(self, name: str, photo_ids: list[int], confirmed: bool) -> None:
        self.lib.label_photos(name, photo_ids, positive=confirmed)
        self._label_chosen(name)
        self.labels_page.show_labels(self.lib.labels.list())

    # ---- many photos at once, and undo ---------------------------------------------------------

    def push_undo(self, what: str, undo: Callable[[], None]) -> None:
        self.undo_stack = [*self.undo_stack[-19:], (what, undo)]
        self.undo_action.setEnabled(True)
        self.undo_action.setText(f"&Undo {what}")

    def undo(self) -> None:
        if not self.undo_stack:
            return
        what, fn = self.undo_stack.pop()
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
        else:
            self.statusBar().showMessage(f"Undone: {what}.", 8000)
        self.undo_action.setEnabled(bool(self.undo_stack))
        self.undo_action.setText(f"&Undo {self.undo_stack[-1][0]}" if self.undo_stack else "&Undo")
        self.refresh_library()
        if self.tabs.currentWidget() is self.labels_page:
            self.labels_page.show_labels(self.lib.labels.list())
        elif self.tabs.currentWidget() is self.people_page:
            self.show_people()

    def remove_photos(self, photo_ids: list[int]) -> None:
        """Take the selected photos out of the library (their files stay on disk); Edit > Undo brings them back."""
        if self.task is not None and self.task.running():
            self.statusBar().showMessage("Wait for the current run to finish.", 5000)
            return
        if len(photo_ids) > 1 and not self.ask_yes(f"Take {plural(len(photo_ids), 'photo')} out of the library? "
                                                   "The files stay where they are; Edit > Undo brings them back."):
            return
        try:
            removed, token = self.lib.remove_photos(photo_ids)
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
            return
        self.push_undo(f"remove {plural(removed, 'photo')}", lambda: self.lib.undo_remove(token) and None)
        self.statusBar().showMessage(f"{plural(removed, 'photo')} taken out of the library (Ctrl+Z undoes it).",
                                     10000)
        self.refresh_library()

    def reveal_photos(self, photo_ids: list[int]) -> None:
        """Open the folders of the selected photos (each once) in the file manager."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        folders = list(dict.fromkeys(os.path.dirname(p) for p in self.lib.first_paths(photo_ids).values()))
        opened = [f for f in folders[:10] if os.path.isdir(f) and QDesktopServices.openUrl(QUrl.fromLocalFile(f))]
        if len(opened) < min(len(folders), 10):
            self.statusBar().showMessage("No file manager could be opened here. The folders: " + ", ".join(folders[:5]),
                                         15000)

    # ---- missing folders, skipped files ------------------------------------------------------

    def _ask_folder(self, old: str) -> str | None:
        from PySide6.QtWidgets import QFileDialog

        d = QFileDialog.getExistingDirectory(self, f"Where is {os.path.basename(old) or old} now?",
                                             os.path.dirname(old))
        return d or None

    def _ask_yes(self, question: str) -> bool:
        from PySide6.QtWidgets import QMessageBox

        answer = QMessageBox.question(self, "organizer", question)
        return answer == QMessageBox.StandardButton.Yes

    def locate_folder(self, old: str) -> None:
        new = self.ask_folder(old)
        if not new:
            return
        try:
            n = self.lib.relocate(old, new)
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
            return
        self.statusBar().showMessage(f"{plural(n, 'file')} found in {new}: their photos are back, with everything "
                                     "they had.", 10000)
        self.offline = [(f, k) for f, k in self.offline if f != old]
        self.refresh_library()

    def forget_folder(self, old: str) -> None:
        n = self.lib.photos_under(self.lib.paths_to_forget([old]))
        if not self.ask_yes(f"Take the {plural(n, 'photo')} from {old} out of the library? Their analysis and "
                            "labels go with them (a backup is kept)."):
            return
        try:
            self.lib.backup("before forgetting a folder")
            _, photos = self.lib.forget([old])
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
            return
        self.statusBar().showMessage(f"{plural(photos, 'photo')} from {old} left the library.", 10000)
        self.offline = [(f, k) for f, k in self.offline if f != old]
        self.refresh_library()

    def show_problem_files(self) -> None:
        """The files that could not be read (with why) and the photos whose files are missing, in one list."""
        from PySide6.QtWidgets import QDialog, QDialogButtonBox

        skipped, missing = self.lib.problem_files()
        dialog = QDialog(self)
        dialog.setWindowTitle("Skipped and missing files")
        lines = QListWidget()
        for f in skipped:
            lines.addItem("skipped  " + skip_line(f.path, f.reason, f.detail))
        for p in missing:
            lines.addItem(f"missing  {p} (kept; `organizer prune --missing` forgets missing files)")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(QLabel(f"{plural(len(skipped), 'file')} skipped, {plural(len(missing), 'file')} missing"))
        layout.addWidget(lines, 1)
        layout.addWidget(buttons)
        dialog.resize(900, 480)
        self.problem_dialog = dialog
        dialog.show()

    # ---- people ------------------------------------------------------------------------------

    def show_people(self) -> None:
        try:
            off = self.lib.faces_off()
            self._overview = self.lib.people.overview()
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
            return
        covers = self.lib.face_places([p.cover for p in self._overview.people if p.cover is not None])
        self.people_page.show_people(self._overview, covers, off)
        if self.people_page.current() is None and self.people_page.list.count():
            self.people_page.list.setCurrentRow(0)

    def _person(self, ref: str) -> Any:
        people = self._overview.people if self._overview is not None else []
        return next((p for p in people if (p.name if p.name is not None else str(p.number)) == ref), None)

    def _person_chosen(self, ref: str) -> None:
        person = self._person(ref)
        if person is None:
            return
        suggested = self.lib.part_photos(person.suggested) if person.name is not None else {}
        theirs = set(self.lib.part_photos(person.faces).values())
        only_suggested = set(suggested.values()) - theirs  # asked about below, not shown twice
        shown = [p for p in person.photos if p not in only_suggested]
        # each photo's face of theirs outlined on its tile: in a group shot, which face is meant is seen
        places = self.lib.face_places(person.faces + person.suggested)
        photo_of = self.lib.part_photos(list(places))
        by_photo = {photo_of[f]: FaceMark(f, box) for f, (_, box) in places.items() if f in photo_of}

        def rows_of(ids: list[int]) -> list[Row]:
            out = []
            for r in self.lib.photo_rows(photo_ids=ids):
                row = Row.of(r)
                if r.id in by_photo:
                    row.parts = [by_photo[r.id]]
                out.append(row)
            return out

        self.people_page.photos.set_rows(rows_of(shown))
        self.people_page.title.setText(f"{person.title}: {plural(len(shown), 'photo')}")
        self.people_page.not_them.setEnabled(person.name is not None)
        ids = list(dict.fromkeys(suggested[f] for f in person.suggested if f in suggested))
        self.people_page.suggestions.set_rows(rows_of(ids))
        self.people_page.show_suggestions(bool(ids))

    def _curate(self, what: str, parts: list[int], action: Callable[[], Any]) -> Any:
        """A labels or people action, undoable from Edit > Undo (and `organizer undo`); None when it failed
        (said in the window)."""
        try:
            result = self.lib.curate(what, parts, action)
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
            return None
        self.push_undo(what, lambda: self.lib.undo_last() and None)
        return result

    def _person_renamed(self, ref: str, name: str) -> None:
        from organizer.people.people import NameInUseError

        people = self.lib.people
        touched = people.touched(ref, name)
        try:
            done = self.lib.curate(f"name {name}", touched, lambda: people.name(ref, name))
        except NameInUseError as e:
            if not self.ask_yes(f"{e.name} is already a person ({plural(e.faces, 'face')}). Merge these faces "
                                f"into {e.name}? Edit > Undo takes it back."):
                self.show_people()
                return
            done = self._curate(f"merge into {e.name}", touched, lambda: people.name(ref, name, merge=True))
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
            done = None
        else:
            self.push_undo(f"name {name}", lambda: self.lib.undo_last() and None)
        if done is not None:
            name = done.name
        self.show_people()
        for i in range(self.people_page.list.count()):
            if self.people_page.list.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.people_page.list.setCurrentRow(i)
        self.statusBar().showMessage(f"{name}: search for them by name.", 8000)

    def _person_answered(self, ref: str, photo_ids: list[int], yes: bool) -> None:
        """Yes or no for the person's faces (confirmed or suggested) in these photos."""
        person = self._person(ref)
        if person is None or person.name is None:
            return
        where = self.lib.part_photos(person.faces + person.suggested)
        faces = [f for f, pid in where.items() if pid in set(photo_ids)]
        if faces:
            act = self.lib.people.confirm if yes else self.lib.people.reject
            self._curate(f"{'confirm' if yes else 'not'} {person.name}", faces, lambda: act(person.name, faces))
        self.show_people()
        self._person_chosen(ref)

    def open_set(self, photo_ids: list[int]) -> None:
        """A selection from the map, shown as results on the search page."""
        rows = [Row.of(r) for r in self.lib.photo_rows(photo_ids=photo_ids)]
        self.search_page.results.set_rows(rows)
        self.search_page.status.setText(f"{plural(len(rows), 'photo')} selected on the map")
        self.stack.setCurrentWidget(self.tabs)
        self.tabs.setCurrentWidget(self.search_page)

    def open_photo(self, photo_id: int, parts: list[Any] | None, sequence: list[int] | None = None,
                   gallery: Any = None) -> None:
        """The photo, large, in the viewer pane; Left and Right go through ``sequence`` (the gallery it was
        opened from), and back in the gallery the last photo shown is the current one."""
        details = self.lib.photo_details(photo_id)
        if details is None:
            self.show_message("That photo is no longer in the library.")
            return
        self._viewer_from = gallery
        self.viewer.open(details, {p.part_id for p in parts or []}, sequence)
        self.stack.setCurrentWidget(self.viewer)
        self.viewer.setFocus()

    def _full_screen(self, full: bool) -> None:
        """The photo alone in full screen: the menu, the status bar and the run's progress go meanwhile."""
        self.menuBar().setVisible(not full)
        self.statusBar().setVisible(not full)
        if full:
            self._progress_was_shown = self.progress_box.isVisible()
            self.progress_box.setVisible(False)
        elif getattr(self, "_progress_was_shown", False):
            self.progress_box.setVisible(self.task is not None and self.task.running())

    def photo_shown(self) -> bool:
        return self.stack.currentWidget() is self.viewer

    def close_photo(self) -> None:
        """Back from the viewer to the page it was opened from, with the photo last shown current there."""
        self.stack.setCurrentWidget(self.tabs)
        g = self._viewer_from
        if g is not None:
            row = g.model_.row_of(self.viewer.details.id)
            if row is not None:
                g.setCurrentIndex(g.model_.index(row))
                g.scrollTo(g.model_.index(row))
            g.setFocus()

    # ---- search ------------------------------------------------------------------------------

    def run_search(self, query: Any) -> None:
        self._search_serial += 1
        serial = self._search_serial
        task = Task(lambda: call(lambda: self.lib.search(query)), self)
        # The Task's own signals come in the UI thread and die with the window (the worker's, connected to a
        # lambda, ran it in the worker's thread, even after the window was deleted: "Signal source has been
        # deleted").
        task.done.connect(lambda results: self.search_result.emit(serial, results))
        task.failed.connect(lambda msg: self.search_error.emit(serial, msg))
        self._search_tasks = [t for t in getattr(self, "_search_tasks", []) if t.running()] + [task]
        task.start()

    def _search_done(self, serial: int, results: list[Any]) -> None:
        if serial != self._search_serial:
            return  # a newer query is on its way
        rows = [Row(r.photo_id, r.path, r.hash, r.score, r.parts) for r in results]
        self.search_page.results.set_rows(rows)
        self.search_page.status.setText(plural(len(rows), "photo") if rows else "No photos match.")
        self.search_finished.emit(len(rows))

    def _search_failed(self, serial: int, message: str) -> None:
        if serial == self._search_serial:
            self.search_page.status.setText("")
            self.show_message(message)
            self.search_finished.emit(-1)

    # ---- closing -----------------------------------------------------------------------------

    def _ask_on_close(self) -> bool:
        answer = QMessageBox.question(self, "Indexing is running",
                                      "Stop now and quit? Everything stored so far is kept, and the run resumes "
                                      "the next time organizer starts.")
        return answer == QMessageBox.StandardButton.Yes

    def closeEvent(self, e: QCloseEvent) -> None:  # noqa: N802
        """Quit within a moment: the run is cancelled and the window goes at once; a step that cannot stop
        mid-way (a model loading, a batch) ends after the window is gone (:meth:`wait_for_background`)."""
        if self.task is not None and self.task.running():
            if not self.ask_on_close():
                e.ignore()
                return
            self._closing = True
            task = self.task  # the run may have ended while the question was open
            if task is not None and task.running():
                self.statusBar().showMessage("Stopping... (everything stored so far is kept)")
                self.progress_label.setText("Stopping...")
                QApplication.processEvents()
                if not task.stop(QUIT_WAIT_MS):
                    self._stopping.append(task)
        for t in getattr(self, "_search_tasks", []):
            t.thread.quit()
            if not t.thread.wait(QUIT_WAIT_MS):
                self._stopping.append(t)
        self.thumbs.wait(QUIT_WAIT_MS)
        self._closed = True
        e.accept()

    def wait_for_background(self, ms: int = 120_000) -> None:
        """After the window closed: let the steps still running end (they stop at their next event), so that
        the library closes with nothing writing to it."""
        for task in self._stopping:
            task.wait(ms)
        self._stopping.clear()
        if self._offline_thread is not None:  # reading the library: let it end before the library closes
            self._offline_thread.join(min(ms / 1000, 5.0))
        self.thumbs.wait(ms)
