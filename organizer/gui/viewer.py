"""One photo, large, with its detected parts outlined and labelled, and what the library knows of it."""

from __future__ import annotations

import html
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QEvent, QPointF, QRectF, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QScrollArea,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from organizer.media.decode import SkipError, load
from organizer.paths import display
from organizer.wording import clip_time, date_words

if TYPE_CHECKING:
    from organizer.library import PhotoDetails

COLOURS = {"text": QColor(255, 200, 0), "person": QColor(0, 200, 255), "vehicle": QColor(255, 80, 80),
           "animal": QColor(120, 255, 120), "face": QColor(255, 120, 220)}


VIEW_SIDE = 1600  # the shown copy's longest side; zooming closer than it loads the photo's own pixels
ZOOM_STEP = 1.25


def photo_pixmap(path: str, parts: list[Any], highlight: set[int], side: int | None = 1200) -> QPixmap:
    try:
        im = load(path, max_side=side).image
    except (SkipError, OSError):
        pm = QPixmap(400, 300)
        pm.fill(QColor(40, 40, 40))
        return pm
    data = im.tobytes("raw", "RGB")
    qimg = QImage(data, im.width, im.height, im.width * 3, QImage.Format.Format_RGB888).copy()
    pm = QPixmap.fromImage(qimg)
    painter = QPainter(pm)
    font = QFont()
    font.setPixelSize(max(12, im.width // 60))
    painter.setFont(font)
    for p in parts:
        if p.at_seconds is not None:  # a video's later frame, or a part of one: not a place on the poster
            continue
        colour = COLOURS.get(p.type, QColor(255, 255, 255))
        strong = p.id in highlight
        painter.setPen(QPen(colour, 5 if strong else 2, Qt.PenStyle.SolidLine if strong or not highlight
                            else Qt.PenStyle.DashLine))
        x0, y0, x1, y1 = p.box
        rect = QRectF(x0 * im.width, y0 * im.height, (x1 - x0) * im.width, (y1 - y0) * im.height)
        painter.drawRect(rect)
        # a face's detector score is no probability; its label is the person it shows
        label = p.type + (f": {p.label}" if p.label else "") + (
            f" {p.confidence:.0%}" if p.confidence and p.type != "face" else "")
        painter.drawText(rect.topLeft() + QPointF(3, -5), label)
    painter.end()
    return pm


MAX_UPSCALE = 2.0  # fitting the pane, a small photo is enlarged at most this much (a 75x100 one was blown up 8x)

class PhotoViewer(QWidget):
    """A photo, large, as a pane of the main window: Left/Right (or Page Up/Down) go to the previous and next
    photo of the gallery it was opened from; the wheel or +/- zoom, 0 fits, a double-click toggles actual size
    and fit; F or F11 shows it full screen; Esc leaves full screen, then goes back to the gallery."""

    label_part = Signal(int)  # part id
    closed = Signal()  # back to the gallery
    full_screen = Signal(bool)  # full screen on (True) or off: the window hides its own bars meanwhile

    def __init__(self, parent: QWidget | None = None,
                 fetch: Callable[[int], PhotoDetails | None] | None = None,
                 motion_clip: Callable[[int], str | None] | None = None) -> None:
        super().__init__(parent)
        self.sequence: list[int] = []
        self.fetch = fetch
        self.motion_clip = motion_clip  # a motion photo's clip as a file a player can open
        self.highlight: set[int] = set()
        self._pixmap: QPixmap | None = None  # the shown copy, parts drawn; None until a photo is opened
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll_area = QScrollArea()
        self.scroll_area.setWidget(self.image)
        self.scroll_area.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.scroll_area.setMinimumSize(400, 300)
        self.scroll_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # the arrow keys step through photos
        self.scroll_area.viewport().installEventFilter(self)
        self.zoom: float | None = None  # None: fit the window; else pixels of the shown image per photo pixel
        self.info = QTextBrowser()
        self.info.setMaximumWidth(360)
        self.parts = QComboBox()
        self.label_btn = QPushButton("Label this part as...")
        self.label_btn.clicked.connect(lambda: self.label_part.emit(int(self.parts.currentData())))
        self.play_button = QPushButton("Play in the video player")
        self.play_button.setToolTip("Opens the video in the player your system uses for it")
        self.play_button.clicked.connect(self._play)
        self.play_button.hide()
        reveal = QPushButton("Show in folder")
        self.reveal_note = QLabel()
        self.reveal_note.setWordWrap(True)
        self.reveal_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reveal_note.hide()
        reveal.clicked.connect(lambda: self._reveal(Path(self._path()).parent))
        self.position = QLabel()
        self.title = QLabel()
        self.title.setStyleSheet("font-weight: bold")
        self.title.setWordWrap(True)
        back = QPushButton("Back to the gallery")
        back.setToolTip("Esc")
        back.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        back.clicked.connect(self.leave)
        self.full_button = QPushButton("Full screen")
        self.full_button.setToolTip("F or F11; Esc leaves it")
        self.full_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.full_button.clicked.connect(self.toggle_full_screen)
        side = QVBoxLayout()
        top = QHBoxLayout()
        top.addWidget(back)
        top.addWidget(self.full_button)
        side.addLayout(top)
        side.addWidget(self.title)
        side.addWidget(self.position)
        side.addWidget(self.info)
        side.addWidget(self.parts)
        side.addWidget(self.label_btn)
        side.addWidget(self.play_button)
        side.addWidget(reveal)
        side.addWidget(self.reveal_note)
        self.side = QWidget()  # hidden in full screen: the photo alone
        self.side.setLayout(side)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.scroll_area, 1)
        layout.addWidget(self.side)

    # ---- which photo --------------------------------------------------------------------------

    def open(self, details: PhotoDetails, highlight: set[int] | None = None,
             sequence: list[int] | None = None) -> None:
        """Show ``details`` (its ``highlight`` parts drawn strong); Left and Right go through ``sequence``."""
        self.sequence = list(sequence or [details.id])
        self.highlight = highlight or set()
        self.show_details(details)

    def leave(self) -> None:
        """Out of full screen, and back to where the photo was opened from."""
        if self.window().isFullScreen():
            self.toggle_full_screen()
        self.closed.emit()

    def toggle_full_screen(self) -> None:
        """Full screen shows the photo alone: no side panel here, no menu, bars or buttons in the window."""
        w = self.window()
        full = not w.isFullScreen()
        self.side.setVisible(not full)
        self.full_screen.emit(full)
        if full:
            w.showFullScreen()
        else:
            w.showNormal()
        self.full_button.setText("Leave full screen" if full else "Full screen")
        self._render()

    def _path(self) -> str:
        return self.details.paths[0] if self.details.paths else ""

    def show_details(self, details: PhotoDetails) -> None:
        self.details = details
        path = self._path()
        self._pixmap = photo_pixmap(path, details.parts, self.highlight, side=VIEW_SIDE)
        self._full = False
        i = self.sequence.index(details.id) if details.id in self.sequence else 0
        self.title.setText(display(Path(path).name) or "Photo")
        self.position.setText(f"{i + 1} of {len(self.sequence)}" if len(self.sequence) > 1 else "")
        self.info.setHtml(self._html())
        self.parts.clear()
        for p in details.parts:
            where = f" at {clip_time(p.at_seconds)}" if p.at_seconds is not None else ""
            self.parts.addItem(p.type + where + (f": {p.label}" if p.label else "") + (f' "{p.text}"' if p.text else ""),
                               p.id)
        self.label_btn.setEnabled(bool(details.parts))
        motion = details.motion_offset is not None or details.motion_path is not None
        self.play_button.setVisible(details.duration is not None or motion)
        self.play_button.setText("Play the motion clip" if motion else "Play in the video player")
        self.reveal_note.hide()
        self.zoom = None
        self._render()

    def step(self, delta: int) -> bool:
        """Show the photo ``delta`` places on in the gallery's order; False at either end."""
        if self.fetch is None or self.details.id not in self.sequence:
            return False
        i = self.sequence.index(self.details.id) + delta
        while 0 <= i < len(self.sequence):
            d = self.fetch(self.sequence[i])
            if d is not None:  # one removed meanwhile is passed over
                self.highlight = set()
                self.show_details(d)
                return True
            i += 1 if delta > 0 else -1
        return False

    # ---- zoom ---------------------------------------------------------------------------------

    def set_zoom(self, zoom: float | None) -> None:
        if zoom is not None and not self._full and zoom > self._fit_zoom():
            # closer than the shown copy allows: the photo at its own resolution (once)
            self._pixmap = photo_pixmap(self._path(), self.details.parts, self.highlight, side=None)
            self._full = True
        self.zoom = None if zoom is None else max(0.05, min(8.0, zoom))
        self._render()

    def _fit_zoom(self) -> float:
        """The zoom at which the shown copy fits the viewport (relative to the photo's own pixels)."""
        vp = self.scroll_area.viewport().size()
        if self._pixmap is None:
            return 1.0
        w, h = max(1, self._pixmap.width()), max(1, self._pixmap.height())
        return min(vp.width() / w, vp.height() / h) * self._copy_scale()

    def _copy_scale(self) -> float:
        """The shown copy's pixels per photo pixel (the copy is at most VIEW_SIDE; sides compared longest to
        longest, so a photo turned upright by its EXIF orientation compares right)."""
        d, pm = self.details, self._pixmap
        if pm is None:
            return 1.0
        return max(pm.width(), pm.height()) / max(1, d.width, d.height)

    def _render(self) -> None:
        pm = self._pixmap
        if pm is None:
            return
        if self.zoom is None and self._fit_zoom() <= MAX_UPSCALE:
            vp = self.scroll_area.viewport().size()
            shown = pm.scaled(vp, Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        else:  # a zoom asked for; or a photo much smaller than the pane, not blown up blurry to fill it
            factor = (self.zoom if self.zoom is not None else MAX_UPSCALE) / self._copy_scale()
            shown = pm.scaled(max(1, round(pm.width() * factor)), max(1, round(pm.height() * factor)),
                              Qt.AspectRatioMode.KeepAspectRatio, Qt.TransformationMode.SmoothTransformation)
        self.image.setPixmap(shown)
        self.image.resize(shown.size())

    def current_zoom(self) -> float:
        return min(self._fit_zoom(), MAX_UPSCALE) if self.zoom is None else self.zoom

    def keyPressEvent(self, e: Any) -> None:  # noqa: N802 - Qt's name
        key = e.key()
        if key in (Qt.Key.Key_Right, Qt.Key.Key_PageDown, Qt.Key.Key_Space):
            self.step(1)
        elif key in (Qt.Key.Key_Left, Qt.Key.Key_PageUp, Qt.Key.Key_Backspace):
            self.step(-1)
        elif key in (Qt.Key.Key_Plus, Qt.Key.Key_Equal):
            self.set_zoom(self.current_zoom() * ZOOM_STEP)
        elif key == Qt.Key.Key_Minus:
            self.set_zoom(self.current_zoom() / ZOOM_STEP)
        elif key == Qt.Key.Key_0:
            self.set_zoom(None)
        elif key in (Qt.Key.Key_F, Qt.Key.Key_F11):
            self.toggle_full_screen()
        elif key == Qt.Key.Key_Escape:
            self.escape()
        else:
            super().keyPressEvent(e)

    def eventFilter(self, obj: Any, e: Any) -> bool:  # noqa: N802 - Qt's name
        if obj is self.scroll_area.viewport():
            if e.type() == QEvent.Type.Wheel:
                self.set_zoom(self.current_zoom() * (ZOOM_STEP if e.angleDelta().y() > 0 else 1 / ZOOM_STEP))
                return True
            if e.type() == QEvent.Type.MouseButtonDblClick:
                self.set_zoom(1.0 if self.zoom is None else None)
                return True
        return super().eventFilter(obj, e)

    def escape(self) -> None:
        """Esc: out of full screen first, then back to the gallery."""
        if self.window().isFullScreen():
            self.toggle_full_screen()
        else:
            self.leave()

    def _play(self) -> None:
        """Hand the video (or a motion photo's clip) to the system's player (the window shows the poster frame
        and the frames' times)."""
        path = self._path()
        if (self.details.motion_offset is not None or self.details.motion_path) and self.motion_clip is not None:
            path = self.motion_clip(self.details.id) or path
        if not Path(path).is_file():
            self.reveal_note.setText(f"The video is not there now: {display(path)}")
        elif QDesktopServices.openUrl(QUrl.fromLocalFile(path)):
            return
        else:
            self.reveal_note.setText(f"No video player could be opened here. The video is: {display(path)}")
        self.reveal_note.show()

    def _reveal(self, folder: Path) -> None:
        """Open the photo's folder in the file manager; where none opens, say where the folder is."""
        if not folder.is_dir():
            self.reveal_note.setText(f"The folder is not there now: {display(str(folder))}")
        elif QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder))):
            return
        else:
            self.reveal_note.setText(f"No file manager could be opened here. The folder is: {display(str(folder))}")
        self.reveal_note.show()

    def _html(self) -> str:
        d = self.details
        rows = [("Taken", when(d.taken_at)), ("Path", "<br>".join(html.escape(display(p)) for p in d.paths)),
                ("Size", f"{d.width} x {d.height} ({d.format})"), ("Camera", d.camera or "unknown")]
        if d.lens:
            rows.append(("Lens", html.escape(d.lens)))
        if d.duration is not None:
            rows.insert(1, ("Length", clip_time(d.duration)))
        if d.missing:
            rows.insert(0, ("Missing", "the file was not found at the last scan (an unplugged drive or a moved "
                                       "folder?). The photo, its analysis and labels are kept; it shows again when "
                                       "the file is back."))
        if d.place:
            rows.insert(1, ("Place", html.escape(d.place)))
        if d.gps:
            rows.append(("GPS", f"{d.gps[0]:.5f}, {d.gps[1]:.5f}"))
        if d.landmark:  # only when one is shown: a best guess below the threshold is noise to a reader
            rows.append(("Landmark", f"{d.landmark} ({d.landmark_p or 0:.0%})"))
        texts = [p.text for p in d.parts if p.type == "text" and p.text]
        if texts:
            rows.append(("Text", "<br>".join(t.replace("\n", " ") for t in texts)))
        objects = [p.type + (f" ({p.label})" if p.label else "") for p in d.parts if p.type not in ("text", "frame")]
        if objects:
            rows.append(("Objects", ", ".join(objects)))
        return "<table>" + "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows) + "</table>"

    def showEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().showEvent(event)
        if self.zoom is None:  # opened while hidden (the pane behind the tabs): fit the size it has now
            self._render()

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        super().resizeEvent(event)
        if self.zoom is None:
            self._render()


def when(taken_at: str | None) -> str:
    """A date taken in words: "Saturday 14 July 2018, 16:05"."""
    return date_words(taken_at, "time", none="unknown")
