"""The main window: pages over the library, a background worker for long work, progress, drops, errors."""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QDragEnterEvent, QDropEvent, QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QApplication,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QListWidget,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from organizer.gui.controllers.folders import FolderWatch
from organizer.gui.controllers.search import Searches
from organizer.gui.controllers.undo import UndoHistory
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
from organizer.gui.window_parts.curation import CurationPart
from organizer.gui.window_parts.indexing import IndexingPart
from organizer.gui.window_parts.library import LibraryPart
from organizer.gui.window_parts.viewing import ViewingPart
from organizer.gui.worker import Task
from organizer.library import Library

log = logging.getLogger(__name__)

WARM_AFTER_MS = 1500  # the window is drawn and usable first; then the search model loads behind it
OFFLINE_CHECK_AFTER_MS = 300  # the first check of the library's folders, once the window is drawn
QUIT_WAIT_MS = 300  # at quit, how long a cancelled step may take before the window goes anyway
OUTSIDE_CHECK_MS = 3000  # how often the window looks for photos another organizer (the CLI) added or removed

__all__ = ["MainWindow"]


class MainWindow(IndexingPart, LibraryPart, CurationPart, ViewingPart):
    def __init__(self, library: Library) -> None:
        super().__init__()
        self.lib = library
        # the controllers: each owns one job's state and tells the window by signals
        self.searches = Searches(lambda query: self.lib.search(query), self)
        self.undos = UndoHistory(self)
        self.folders = FolderWatch(library.offline_folders, self)
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
        self.viewer = PhotoViewer(fetch=library.photo_details, motion_clip=library.motion_clip)
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
        self._closed = False
        self._queued_analysis: tuple[str, bool, bool] | None = None  # asked for while another run ran
        self.task_kind = ""
        self.queue: list[list[str]] = []
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
        self.library_page.sort.setCurrentIndex(_setting_int(self.view_settings, "library/sort", 0))
        self.library_page.size_slider.setValue(_setting_int(self.view_settings, "library/thumbnail", SIZE))
        self.library_page.sort.currentIndexChanged.connect(
            lambda i: (self.view_settings.setValue("library/sort", i), self._show_library()))
        self.library_page.size_slider.valueChanged.connect(lambda v: self.view_settings.setValue("library/thumbnail", v))
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
        self.folders.found.connect(self._offline_checked)
        self.searches.finished.connect(self._search_done)
        self.searches.failed.connect(self._search_failed)
        self.undos.changed.connect(self._undo_changed)
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
    def dragEnterEvent(self, e: QDragEnterEvent) -> None:  # noqa: N802
        if e.mimeData().hasUrls():
            e.acceptProposedAction()
            self._show_drop_hint(True)
    def dragLeaveEvent(self, e: Any) -> None:  # noqa: N802
        self._show_drop_hint(False)
    def _show_drop_hint(self, on: bool) -> None:
        """While something is dragged over the window: a dashed frame and what a drop does."""
        hint = self.drop_hint
        central = self.centralWidget()
        if on and central is not None:
            hint.setGeometry(central.geometry().adjusted(8, 8, -8, -8))
            hint.raise_()
        hint.setVisible(on)
    def dropEvent(self, e: QDropEvent) -> None:  # noqa: N802
        self._show_drop_hint(False)
        paths = [u.toLocalFile() for u in e.mimeData().urls() if u.isLocalFile()]
        if paths:
            self.add_paths(paths)
            e.acceptProposedAction()
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
        self._stopping += self.searches.stop(QUIT_WAIT_MS)
        self.thumbs.wait(QUIT_WAIT_MS)
        self._closed = True
        self.folders.closed = True
        e.accept()
    def wait_for_background(self, ms: int = 120_000) -> None:
        """After the window closed: let the steps still running end (they stop at their next event), so that
        the library closes with nothing writing to it."""
        for task in self._stopping:
            task.wait(ms)
        self._stopping.clear()
        self.folders.wait(min(ms / 1000, 5.0))  # reading the library: let it end before the library closes
        self.thumbs.wait(ms)


def _setting_int(settings: QSettings, key: str, default: int) -> int:
    """A whole number the window saved (an INI file holds text; a hand-edited one may hold anything)."""
    try:
        return int(str(settings.value(key, default)))
    except ValueError:
        return default
