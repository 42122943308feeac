"""A gallery of thumbnails (a virtualised list view), reused by the library, clusters and landmarks pages."""

from __future__ import annotations

from PySide6.QtCore import QItemSelection, QItemSelectionModel, QModelIndex, QPoint, QSize, Qt, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QListView,
    QListWidget,
    QListWidgetItem,
    QPushButton,
    QSlider,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from organizer.gui.delegate import DAY_STRIP, MatchDelegate, TileDelegate, tile_size
from organizer.gui.models import PhotoIdRole, PhotoListModel, Row
from organizer.gui.thumbnails import SIZE, Thumbnails
from organizer.wording import date_words, plural


class Gallery(QListView):
    opened = Signal(int, object)  # photo_id, the row's parts (search results) or None
    label_requested = Signal(list)  # photo ids of the selection
    remove_requested = Signal(list)  # photo ids of the selection: out of the library (undoable)
    reveal_requested = Signal(list)  # photo ids of the selection: show their files in the file manager

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model_ = PhotoListModel(thumbs, self)
        self.setModel(self.model_)
        self.setViewMode(QListView.ViewMode.IconMode)
        self.setIconSize(QSize(SIZE, SIZE))
        # after the icon size: the tile size is taken from it. Every gallery outlines a row's part (a search
        # match, a person's face) and badges a missing photo
        self.setItemDelegate(MatchDelegate(self))
        self._set_grid(days=False)
        # A single layout pass (0.4 s for 100k photos of one size); the batched mode left the scroll range
        # short of the last rows here.
        self.setLayoutMode(QListView.LayoutMode.SinglePass)
        self.setResizeMode(QListView.ResizeMode.Adjust)
        self.setMovement(QListView.Movement.Static)
        self.setWordWrap(True)
        self.setSelectionMode(QAbstractItemView.SelectionMode.ExtendedSelection)
        self.setVerticalScrollMode(QAbstractItemView.ScrollMode.ScrollPerPixel)
        self.activated.connect(self._open)  # Enter or double-click
        delete = QShortcut(QKeySequence.StandardKey.Delete, self, activated=lambda: self.selected_ids() and
                           self.remove_requested.emit(self.selected_ids()))
        delete.setContext(Qt.ShortcutContext.WidgetWithChildrenShortcut)  # the gallery with the focus alone
        self.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.customContextMenuRequested.connect(self._menu)

    def _set_grid(self, days: bool | None = None) -> None:
        """Tiles in a uniform grid (the cheapest layout: 100k photos in one pass); grouped by day, each tile
        has a strip above it where the day is named (``days``: None keeps it as it is)."""
        delegate = self.itemDelegate()
        side = self.iconSize().width()
        if isinstance(delegate, TileDelegate):
            delegate.set_side(side, None if days is None else DAY_STRIP if days else 0)
            strip = delegate.strip
        else:
            strip = 0
        self.setUniformItemSizes(True)
        self.setSpacing(0)
        self.setGridSize(tile_size(side, strip))

    def set_icon_side(self, side: int) -> None:
        """Thumbnails shown at ``side`` pixels (the cached ones are scaled), the photo at the top of the view
        kept there (the view used to jump away from the month being looked at)."""
        top = self.indexAt(QPoint(self.spacing() + 4, self.spacing() + 4))
        self.setIconSize(QSize(side, side))
        self._set_grid()
        self.doItemsLayout()
        if top.isValid():
            self.scrollTo(top, QAbstractItemView.ScrollHint.PositionAtTop)

    def set_rows(self, rows: list[Row]) -> None:
        """Show ``rows``. What was selected stays selected where it is still shown (Ctrl+A during indexing,
        whose runs refresh the gallery); nothing is selected for the user (the keys start at the first photo):
        after an action took the selected photos away, a second click acts on nothing, not on the next photo."""
        chosen = self.selected_ids() if self.selectionModel() is not None else []
        current = self.currentIndex().data(PhotoIdRole) if self.currentIndex().isValid() else None
        self._set_grid(any(r.day_first >= 0 for r in rows))
        self.model_.set_rows(rows)
        keep = sorted(r for r in (self.model_.row_of(p) for p in chosen) if r is not None)
        first = self.photo_index(0)
        sel = self.selectionModel()
        if keep:
            selection = QItemSelection()
            start = prev = keep[0]
            for r in [*keep[1:], None]:  # contiguous runs: one range each (Ctrl+A on 10k photos is one)
                if r is not None and r == prev + 1:
                    prev = r
                    continue
                selection.select(self.model_.index(start), self.model_.index(prev))
                if r is not None:
                    start = prev = r
            sel.select(selection, QItemSelectionModel.SelectionFlag.ClearAndSelect)
            row = self.model_.row_of(int(current)) if current is not None else None
            sel.setCurrentIndex(self.model_.index(row if row is not None else keep[0]),
                                QItemSelectionModel.SelectionFlag.NoUpdate)
        elif first.isValid():
            sel.setCurrentIndex(first, QItemSelectionModel.SelectionFlag.NoUpdate)  # the keys start here

    def photo_index(self, n: int = 0) -> QModelIndex:
        """The model index of the ``n``-th photo; invalid past the last."""
        count = len(self.model_.rows)
        return self.model_.index(n % count) if -count <= n < count else QModelIndex()

    def selected_ids(self) -> list[int]:
        return [int(ix.data(PhotoIdRole)) for ix in self.selectionModel().selectedIndexes()]

    def _menu(self, pos) -> None:  # noqa: ANN001
        from PySide6.QtWidgets import QMenu

        ids = self.selected_ids()
        if not ids:
            return
        menu = QMenu(self)
        n = plural(len(ids), "photo")
        menu.addAction(f"Label as... ({n})", lambda: self.label_requested.emit(ids))
        menu.addAction(f"Show in folder ({n})", lambda: self.reveal_requested.emit(ids))
        menu.addSeparator()
        menu.addAction(f"Remove from library... ({n})", lambda: self.remove_requested.emit(ids))
        menu.exec(self.viewport().mapToGlobal(pos))

    def _open(self, index: QModelIndex) -> None:
        row = self.model_.rows[index.row()]
        self.opened.emit(int(index.data(PhotoIdRole)), row.parts or None)


class LibraryPage(QWidget):
    """Every photo, sorted by date taken or by path; refreshed as photos are stored. A banner names the
    folders that are not there now (an unplugged drive, a moved folder) with Locate... and Forget, and a
    button opens the list of skipped and missing files with the reasons."""

    locate = Signal(str)  # an offline folder: find where it is now
    forget = Signal(str)  # an offline folder: take its photos out of the library
    problems = Signal()  # show the skipped and missing files

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.sort = QComboBox()
        self.sort.addItems(["Newest first", "Oldest first", "Path"])
        self.size_slider = QSlider(Qt.Orientation.Horizontal)
        self.size_slider.setRange(96, SIZE)  # the cached pictures are SIZE pixels: larger cells would not show more
        self.size_slider.setSingleStep(16)
        self.size_slider.setValue(SIZE)
        self.size_slider.setMaximumWidth(160)
        self.size_slider.setToolTip("Thumbnail size")
        self.timeline = QListWidget()
        self.timeline.setToolTip("Jump to a month")
        self.timeline.setMaximumWidth(170)
        self.timeline.itemClicked.connect(self._jump)
        self.filter = QComboBox()
        self.filter.addItems(["All photos", "Missing only"])
        self.filter.setToolTip("Missing: photos whose files were not found (kept, with their analysis and labels)")
        self.count = QLabel()
        self.problems_button = QPushButton()
        self.problems_button.setFlat(True)
        self.problems_button.setVisible(False)
        self.problems_button.clicked.connect(self.problems)
        self.empty = QLabel("Drop folders of photos here, or use File > Add Folder.")
        self.empty.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.gallery = Gallery(thumbs)
        self.size_slider.valueChanged.connect(self.gallery.set_icon_side)
        self.banner = QWidget()
        self.banner.setStyleSheet("QWidget#banner { background: #fff3cd; } QLabel { color: #5c4400; }")
        self.banner.setObjectName("banner")
        self.banner_text = QLabel()
        self.banner_text.setWordWrap(True)
        self.locate_button = QPushButton("Locate...")
        self.locate_button.setToolTip("Show where the folder is now: its photos come back with everything kept")
        self.forget_button = QPushButton("Forget")
        self.forget_button.setToolTip("Take the folder's photos out of the library (asks first)")
        self.locate_button.clicked.connect(lambda: self.offline and self.locate.emit(self.offline[0][0]))
        self.forget_button.clicked.connect(lambda: self.offline and self.forget.emit(self.offline[0][0]))
        row = QHBoxLayout(self.banner)
        row.addWidget(self.banner_text, 1)
        row.addWidget(self.locate_button)
        row.addWidget(self.forget_button)
        self.banner.setVisible(False)
        # the last run's summary, whole and wrapped, until the next run or a click (it was one line in the status
        # bar, cut at the window's edge, gone after 15 s)
        self.summary = QLabel()
        self.summary.setWordWrap(True)
        self.summary.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.summary.setVisible(False)
        self.offline: list[tuple[str, int]] = []
        top = QHBoxLayout()
        top.addWidget(QLabel("Sort by"))
        top.addWidget(self.sort)
        top.addWidget(QLabel("Show"))
        top.addWidget(self.filter)
        top.addStretch(1)
        top.addWidget(self.problems_button)
        top.addWidget(self.count)
        top.addWidget(QLabel("Size"))
        top.addWidget(self.size_slider)
        split = QSplitter()
        split.addWidget(self.gallery)
        split.addWidget(self.timeline)
        split.setStretchFactor(0, 1)
        layout = QVBoxLayout(self)
        layout.addLayout(top)
        layout.addWidget(self.banner)
        layout.addWidget(self.summary)
        layout.addWidget(self.empty)
        layout.addWidget(split, 1)

    def show_summary(self, lines: list[str]) -> None:
        """What the last run did, every line of it ([]: nothing to say)."""
        self.summary.setText("\n".join(lines))
        self.summary.setVisible(bool(lines))

    def order(self) -> str:
        return ("newest", "date", "path")[max(0, self.sort.currentIndex())]

    def missing_only(self) -> bool:
        return self.filter.currentIndex() == 1

    def show_rows(self, rows: list[Row]) -> None:
        shown = [r for r in rows if r.missing] if self.missing_only() else rows
        if self.order() != "path":
            shown = with_days(shown)
        else:
            for r in shown:
                r.day_first, r.day_size = -1, 0
        self.gallery.set_rows(shown)
        self._show_count(len(rows), sum(r.missing for r in rows))
        self.empty.setVisible(not rows)
        self._fill_timeline(shown)

    def mark_offline(self, prefixes: tuple[str, ...]) -> bool:
        """Photos under folders found offline (or back) marked in place; False where the page must be shown
        again instead (it lists the missing photos alone)."""
        if self.missing_only():
            return False
        model = self.gallery.model_
        missing = model.mark_offline(prefixes)
        self.gallery.viewport().update()
        self._show_count(len(model.photo_ids()), missing)
        return True

    def _show_count(self, photos: int, missing: int) -> None:
        self.count.setText(plural(photos, "photo") + (f", {missing} missing" if missing else ""))

    def _fill_timeline(self, rows: list[Row]) -> None:
        """Months (and undated photos) in gallery order, with counts: a click jumps to the first of them."""
        self.timeline.clear()
        self.timeline.setVisible(self.order() != "path" and bool(rows))
        if self.order() == "path":
            return
        firsts: dict[str, tuple[int, int]] = {}
        names: dict[str, str] = {}  # "2018-07..." -> "July 2018", worked out once a month (100k rows)
        for i, r in enumerate(rows):
            ym = (r.taken_at or "")[:7]
            key = names.get(ym) or names.setdefault(ym, month(r.taken_at))
            first, n = firsts.get(key, (i, 0))
            firsts[key] = (first, n + 1)
        for key, (first, n) in firsts.items():
            item = QListWidgetItem(f"{key} ({n})")
            item.setData(Qt.ItemDataRole.UserRole, first)
            self.timeline.addItem(item)

    def _jump(self, item: QListWidgetItem) -> None:
        """The month's first photo at the top, and current."""
        first = self.gallery.model_.index(int(item.data(Qt.ItemDataRole.UserRole)))
        self.gallery.scrollTo(first, QAbstractItemView.ScrollHint.PositionAtTop)
        self.gallery.setCurrentIndex(first)

    def show_offline(self, offline: list[tuple[str, int]]) -> None:
        """Folders not there now, most photos first: the banner names the first and counts the others."""
        from organizer.paths import display

        self.offline = offline
        self.banner.setVisible(bool(offline))
        if offline:
            folder, n = offline[0]
            more = f" (and {plural(len(offline) - 1, 'other folder')})" if len(offline) > 1 else ""
            self.banner_text.setText(
                f"Not found: {display(folder)}{more}, with {plural(n, 'photo')}. An unplugged drive or a moved "
                "folder? The photos are kept, shown as missing, until it is back; Locate... shows where it is now.")

    def show_problems(self, skipped: int, missing: int) -> None:
        parts = ([plural(skipped, "file") + " skipped"] if skipped else []) + (
            [plural(missing, "photo") + " missing"] if missing else [])
        self.problems_button.setText(", ".join(parts) + "...")
        self.problems_button.setToolTip("The files that could not be read, and why; the photos whose files "
                                        "were not found")
        self.problems_button.setVisible(bool(parts))


def with_days(rows: list[Row]) -> list[Row]:
    """``rows`` (in date order) grouped by day: each knows its day's first row, which knows the day's size
    (the gallery names the day above its tiles: "Saturday 14 July 2018 (3)"; the undated ones "No date")."""
    start = 0
    for i in range(len(rows) + 1):
        if i == len(rows) or (i > start and day_key(rows[i].taken_at) != day_key(rows[start].taken_at)):
            if i > start:
                rows[start].day_size = i - start
            start = i
        if i < len(rows):
            rows[i].day_first = start
    return rows


def day_key(taken_at: str | None) -> str:
    return taken_at[:10] if taken_at else ""


def month(taken_at: str | None) -> str:
    """The month a photo was taken in words ("July 2018"), or "No date"."""
    return date_words(taken_at, "month")
