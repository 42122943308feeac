"""One photo, large, with its detected parts outlined and labelled, and what the library knows of it."""

from __future__ import annotations

import html
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QPointF, QRectF, Qt, QUrl, Signal
from PySide6.QtGui import QColor, QDesktopServices, QFont, QImage, QPainter, QPen, QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QTextBrowser,
    QVBoxLayout,
    QWidget,
)

from organizer.media.decode import SkipError, load
from organizer.media.scan import display

if TYPE_CHECKING:
    from organizer.library import PhotoDetails

COLOURS = {"text": QColor(255, 200, 0), "person": QColor(0, 200, 255), "vehicle": QColor(255, 80, 80),
           "animal": QColor(120, 255, 120), "face": QColor(255, 120, 220)}


def photo_pixmap(path: str, parts: list[Any], highlight: set[int], side: int = 1200) -> QPixmap:
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


class PhotoViewer(QDialog):
    label_part = Signal(int)  # part id

    def __init__(self, details: PhotoDetails, highlight: set[int] | None = None, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.details = details
        path = details.paths[0] if details.paths else ""
        self.setWindowTitle(Path(path).name or "Photo")
        self.resize(1200, 800)
        self.image = QLabel()
        self.image.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.image.setMinimumSize(400, 300)
        self._pixmap = photo_pixmap(path, details.parts, highlight or set())
        self.info = QTextBrowser()
        self.info.setHtml(self._html())
        self.info.setMaximumWidth(360)
        self.parts = QComboBox()
        for p in details.parts:
            self.parts.addItem(p.type + (f": {p.label}" if p.label else "") + (f' "{p.text}"' if p.text else ""), p.id)
        label_btn = QPushButton("Label this part as...")
        label_btn.setEnabled(bool(details.parts))
        label_btn.clicked.connect(lambda: self.label_part.emit(int(self.parts.currentData())))
        reveal = QPushButton("Show in folder")
        self.reveal_note = QLabel()
        self.reveal_note.setWordWrap(True)
        self.reveal_note.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        self.reveal_note.hide()
        reveal.clicked.connect(lambda: self._reveal(Path(path).parent))
        side = QVBoxLayout()
        side.addWidget(self.info)
        side.addWidget(self.parts)
        side.addWidget(label_btn)
        side.addWidget(reveal)
        side.addWidget(self.reveal_note)
        layout = QHBoxLayout(self)
        layout.addWidget(self.image, 1)
        layout.addLayout(side)

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
        rows = [("Path", "<br>".join(html.escape(display(p)) for p in d.paths)), ("Size", f"{d.width} x {d.height} ({d.format})"),
                ("Taken", d.taken_at or "unknown"), ("Camera", d.camera or "unknown")]
        if d.missing:
            rows.insert(0, ("Missing", "the file was not found at the last scan (an unplugged drive or a moved "
                                       "folder?). The photo, its analysis and labels are kept; it shows again when "
                                       "the file is back."))
        if d.gps:
            rows.append(("GPS", f"{d.gps[0]:.5f}, {d.gps[1]:.5f}"))
        if d.landmark:
            rows.append(("Landmark", f"{d.landmark} ({d.landmark_p or 0:.0%})"))
        elif d.landmarks:
            name, p, _ = d.landmarks[0]
            rows.append(("Landmark", f"none shown (best guess {name}, {p:.0%})"))
        texts = [p.text for p in d.parts if p.type == "text" and p.text]
        if texts:
            rows.append(("Text", "<br>".join(t.replace("\n", " ") for t in texts)))
        objects = [p.type + (f" ({p.label})" if p.label else "") for p in d.parts if p.type != "text"]
        if objects:
            rows.append(("Objects", ", ".join(objects)))
        return "<table>" + "".join(f"<tr><td><b>{k}</b></td><td>{v}</td></tr>" for k, v in rows) + "</table>"

    def resizeEvent(self, event: Any) -> None:  # noqa: N802 - Qt's name
        self.image.setPixmap(self._pixmap.scaled(self.image.size(), Qt.AspectRatioMode.KeepAspectRatio,
                                                 Qt.TransformationMode.SmoothTransformation))
        super().resizeEvent(event)
