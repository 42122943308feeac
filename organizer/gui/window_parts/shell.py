"""What the window's parts share: its signals, its widgets and state (made by ``MainWindow.__init__``), and the
methods one part calls on another, declared once so the type checker sees each part's use of them."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtGui import QAction
from PySide6.QtWidgets import (
    QLabel,
    QListWidget,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QStackedWidget,
    QTabWidget,
    QWidget,
)

if TYPE_CHECKING:
    from organizer.gui.controllers.folders import FolderWatch
    from organizer.gui.controllers.search import Searches
    from organizer.gui.controllers.undo import UndoHistory
    from organizer.gui.pages.clusters_page import ClustersPage
    from organizer.gui.pages.gallery import LibraryPage
    from organizer.gui.pages.labels_page import LabelsPage
    from organizer.gui.pages.landmarks_page import LandmarksPage
    from organizer.gui.pages.people_page import PeoplePage
    from organizer.gui.pages.places_page import PlacesPage
    from organizer.gui.pages.projection_page import ProjectionPage
    from organizer.gui.pages.search_page import SearchPage
    from organizer.gui.pages.settings_page import SettingsPage
    from organizer.gui.thumbnails import Thumbnails
    from organizer.gui.viewer import PhotoViewer
    from organizer.gui.worker import Task
    from organizer.library import Library


class Shell(QMainWindow):
    indexing_finished = Signal(object)  # Summary, or None when cancelled or failed
    search_finished = Signal(int)  # number of results
    task_finished = Signal(str)  # "clusters", "projection"
    message_shown = Signal(str)

    lib: Library
    searches: Searches
    undos: UndoHistory
    folders: FolderWatch
    thumbs: Thumbnails
    library_page: LibraryPage
    search_page: SearchPage
    clusters_page: ClustersPage
    projection_page: ProjectionPage
    landmarks_page: LandmarksPage
    labels_page: LabelsPage
    people_page: PeoplePage
    places_page: PlacesPage
    settings_page: SettingsPage
    tabs: QTabWidget
    viewer: PhotoViewer
    stack: QStackedWidget
    message: QLabel
    message_box: QWidget
    progress: QProgressBar
    progress_label: QLabel
    progress_box: QWidget
    pause_button: QPushButton
    cancel_button: QPushButton
    skipped_button: QPushButton
    skipped_list: QListWidget
    undo_action: QAction
    view_settings: QSettings

    task: Task | None
    task_kind: str
    queue: list[list[str]]
    offline: list[tuple[str, int]]  # folders not there at the last check, with their photo counts
    _stopping: list[Task]
    _closed: bool
    _closing: bool
    _queued_analysis: tuple[str, bool, bool] | None
    _refresh_timer: QTimer
    _viewer_from: Any  # the gallery the shown photo was opened from
    _overview: Any

    # swappable by tests (no dialog in an offscreen run)
    ask_folder: Callable[[str], str | None]
    ask_yes: Callable[[str], bool]
    ask_label_name: Callable[[], str | None]
    ask_on_close: Callable[[], bool]

    if TYPE_CHECKING:  # defined by the window or one of its parts
        def show_message(self, text: str) -> None: ...
        def hide_message(self) -> None: ...
        def refresh_library(self) -> None: ...
        def show_people(self) -> None: ...
        def photo_shown(self) -> bool: ...
        def push_undo(self, what: str, undo: Callable[[], object]) -> None: ...
        def _start(self, kind: str, make: Callable[[], Iterator[Any]]) -> None: ...
        def run_analysis(self, kind: str, parts: bool, force: bool) -> None: ...
