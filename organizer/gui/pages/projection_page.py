"""The 3D t-SNE map: points coloured by cluster, rotate and zoom with the mouse, hover for a thumbnail,
click to open, Shift+drag a box to open the points inside as a set.

OpenGL draws it (pyqtgraph's GL scatter); where no OpenGL context can be made (the offscreen
platform), a 2D view of the first two axes stands in with the same hover, click and selection."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
from PySide6.QtCore import QEvent, QPoint, QRect, QSize, Qt, Signal
from PySide6.QtGui import QMouseEvent, QPixmap
from PySide6.QtWidgets import (
    QLabel,
    QRubberBand,
    QVBoxLayout,
    QWidget,
)

from organizer.gui.pages.analysis_bar import AnalysisBar
from organizer.gui.thumbnails import Thumbnails

PICK_RADIUS = 10  # pixels


def opengl_available() -> bool:
    from PySide6.QtGui import QGuiApplication, QOpenGLContext

    if QGuiApplication.platformName() in ("offscreen", "minimal"):
        return False
    ctx = QOpenGLContext()
    return bool(ctx.create())


def colours(labels: np.ndarray) -> np.ndarray:
    """RGBA in 0..1 per point: a hue per cluster, grey for the unclustered."""
    import colorsys

    out = np.empty((len(labels), 4), np.float32)
    for i, lab in enumerate(labels.tolist()):
        if lab < 0:
            out[i] = (0.55, 0.55, 0.55, 0.6)
        else:
            r, g, b = colorsys.hsv_to_rgb((lab * 0.618034) % 1.0, 0.75, 0.95)
            out[i] = (r, g, b, 0.95)
    return out


def pick(screen: np.ndarray, x: float, y: float, radius: float = PICK_RADIUS) -> int | None:
    """Index of the projected point nearest (x, y) within ``radius`` pixels (one numpy pass)."""
    if not len(screen):
        return None
    d2 = (screen[:, 0] - x) ** 2 + (screen[:, 1] - y) ** 2
    i = int(np.argmin(d2))
    return i if d2[i] <= radius * radius else None


def inside(screen: np.ndarray, rect: QRect) -> np.ndarray:
    x0, y0, x1, y1 = rect.left(), rect.top(), rect.right(), rect.bottom()
    return np.flatnonzero((screen[:, 0] >= x0) & (screen[:, 0] <= x1) & (screen[:, 1] >= y0) & (screen[:, 1] <= y1))


class _Picking:
    """Hover, click and Shift+drag box selection over a view that can map points to the screen."""

    hovered: Any
    clicked: Any
    selected: Any

    def _init_picking(self) -> None:
        self._press: QPoint | None = None
        self._band = QRubberBand(QRubberBand.Shape.Rectangle, self)  # type: ignore[arg-type]
        self.setMouseTracking(True)  # type: ignore[attr-defined]

    def screen_points(self) -> np.ndarray:
        raise NotImplementedError

    def _pick_press(self, e: QMouseEvent) -> bool:
        self._press = e.position().toPoint()
        if e.modifiers() & Qt.KeyboardModifier.ShiftModifier:
            self._band.setGeometry(QRect(self._press, QSize()))
            self._band.show()
            return True
        return False

    def _pick_move(self, e: QMouseEvent) -> bool:
        pos = e.position().toPoint()
        if self._band.isVisible() and self._press is not None:
            self._band.setGeometry(QRect(self._press, pos).normalized())
            return True
        if e.buttons() == Qt.MouseButton.NoButton:
            self.hovered.emit(pick(self.screen_points(), pos.x(), pos.y()), e.globalPosition().toPoint())
        return False

    def _pick_release(self, e: QMouseEvent) -> bool:
        pos = e.position().toPoint()
        if self._band.isVisible():
            self._band.hide()
            chosen = inside(self.screen_points(), self._band.geometry())
            if len(chosen):
                self.selected.emit(chosen.tolist())
            return True
        if self._press is not None and (pos - self._press).manhattanLength() < 4:
            i = pick(self.screen_points(), pos.x(), pos.y())
            if i is not None:
                self.clicked.emit(i)
        self._press = None
        return False


def make_view(parent: QWidget | None = None) -> Any:
    """A widget with ``hovered``, ``clicked`` and ``selected`` signals: the 3D view, or the flat one."""
    if opengl_available():
        return _gl_view_class()(parent)
    return _FlatView(parent)


def _gl_view_class() -> type:
    import pyqtgraph.opengl as gl

    class GLView(gl.GLViewWidget, _Picking):
        hovered = Signal(object, QPoint)
        clicked = Signal(int)
        selected = Signal(list)
        three_d = True

        def __init__(self, parent: QWidget | None = None) -> None:
            super().__init__(parent)
            self._init_picking()
            self.setCameraPosition(distance=60)
            self.scatter = gl.GLScatterPlotItem(pos=np.zeros((0, 3)), size=6, pxMode=True)
            self.addItem(self.scatter)
            self.points = np.zeros((0, 3), np.float32)

        def set_points(self, xyz: np.ndarray, rgba: np.ndarray) -> None:
            centre = xyz.mean(0) if len(xyz) else np.zeros(3)
            self.points = (xyz - centre).astype(np.float32)
            span = float(np.abs(self.points).max()) if len(xyz) else 1.0
            self.scatter.setData(pos=self.points, color=rgba, size=6)
            self.setCameraPosition(distance=max(span * 3, 1.0))

        def screen_points(self) -> np.ndarray:
            if not len(self.points):
                return np.zeros((0, 2))
            w, h = self.width(), self.height()
            region = (0, 0, self.deviceWidth(), self.deviceHeight())
            m = self.projectionMatrix(region, region) * self.viewMatrix()
            mat = np.array(m.data(), np.float64).reshape(4, 4).T  # Qt stores column-major
            hom = np.c_[self.points, np.ones(len(self.points))] @ mat.T
            ndc = hom[:, :3] / np.where(np.abs(hom[:, 3:4]) < 1e-9, 1e-9, hom[:, 3:4])
            return np.c_[(ndc[:, 0] + 1) / 2 * w, (1 - ndc[:, 1]) / 2 * h]

        def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
            if not self._pick_press(e):
                super().mousePressEvent(e)

        def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
            if not self._pick_move(e) and e.buttons() != Qt.MouseButton.NoButton:
                super().mouseMoveEvent(e)

        def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
            if not self._pick_release(e):
                super().mouseReleaseEvent(e)

    return GLView


class _FlatView(QWidget, _Picking):
    """The first two t-SNE axes, drawn with QPainter, where OpenGL is not available."""

    hovered = Signal(object, QPoint)
    clicked = Signal(int)
    selected = Signal(list)
    three_d = False

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._init_picking()
        self.points = np.zeros((0, 3), np.float32)
        self.rgba = np.zeros((0, 4), np.float32)
        self.setMinimumSize(300, 300)

    def set_points(self, xyz: np.ndarray, rgba: np.ndarray) -> None:
        self.points, self.rgba = xyz.astype(np.float32), rgba
        self.update()

    def screen_points(self) -> np.ndarray:
        if not len(self.points):
            return np.zeros((0, 2))
        xy = self.points[:, :2]
        lo, hi = xy.min(0), xy.max(0)
        span = np.where(hi - lo < 1e-9, 1.0, hi - lo)
        m = 20
        return np.c_[m + (xy[:, 0] - lo[0]) / span[0] * (self.width() - 2 * m),
                     m + (1 - (xy[:, 1] - lo[1]) / span[1]) * (self.height() - 2 * m)]

    def paintEvent(self, _e: Any) -> None:  # noqa: N802
        from PySide6.QtGui import QColor, QPainter

        p = QPainter(self)
        p.fillRect(self.rect(), QColor(20, 20, 24))
        p.setPen(Qt.PenStyle.NoPen)
        for (x, y), c in zip(self.screen_points(), self.rgba, strict=True):
            p.setBrush(QColor.fromRgbF(*map(float, c)))
            p.drawEllipse(int(x) - 3, int(y) - 3, 6, 6)
        p.end()

    def mousePressEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self._pick_press(e)

    def mouseMoveEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self._pick_move(e)

    def mouseReleaseEvent(self, e: QMouseEvent) -> None:  # noqa: N802
        self._pick_release(e)


class ProjectionPage(QWidget):
    compute = Signal(bool, bool)  # parts mode, force
    open_photo = Signal(int)
    open_set = Signal(list)  # photo ids

    def __init__(self, thumbs: Thumbnails, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.thumbs = thumbs
        self.bar = AnalysisBar()
        self.parts, self.button, self.status = self.bar.parts, self.bar.button, self.bar.status
        self.bar.compute.connect(self.compute)
        self.preview = QLabel(self, Qt.WindowType.ToolTip)
        self.preview.hide()
        self.photo_ids = np.zeros(0, np.int64)
        self.paths: Mapping[int, tuple[str, str | None]] = {}
        self._hover: int | None = None
        thumbs.ready.connect(self._thumb)
        self.hint = QLabel()
        self._view: Any = None  # made when first needed: OpenGL and pyqtgraph cost the window's start ~1 s
        self._layout = QVBoxLayout(self)
        self._layout.addWidget(self.bar)
        self._layout.addStretch(1)
        self._layout.addWidget(self.hint)

    @property
    def view(self) -> Any:
        """The 3D view (OpenGL; the first two axes where there is none), made on first use."""
        if self._view is None:
            view = self._view = make_view()
            view.hovered.connect(self._hovered)
            view.installEventFilter(self)  # the preview goes when the pointer leaves the map
            view.clicked.connect(lambda i: self.open_photo.emit(int(self.photo_ids[i])))
            view.selected.connect(lambda idx: self.open_set.emit(sorted({int(self.photo_ids[i]) for i in idx})))
            stretch = self._layout.itemAt(1)
            if stretch is not None:
                self._layout.removeItem(stretch)
            self._layout.insertWidget(1, view, 1)
            self.hint.setText(("Drag to rotate, wheel to zoom; " if getattr(view, "three_d", False) else
                               "No OpenGL here: showing the first two axes. ")
                              + "hover for a preview, click to open, Shift+drag to select.")
        return self._view

    def showEvent(self, e: Any) -> None:  # noqa: N802 - Qt's name
        _ = self.view
        super().showEvent(e)

    def show_result(self, result: Any, paths: Mapping[int, tuple[str, str | None]]) -> None:
        pts = result.points
        self.photo_ids = pts.photo_ids
        self.paths = paths
        self.view.set_points(pts.xyz, colours(pts.labels))
        n = len(pts.part_ids)
        sampled = f"t-SNE on {result.sampled}, the other {n - result.sampled} placed by their neighbours" \
            if result.sampled < n else "t-SNE on all of them"
        self.status.setText(f"{n} points: {sampled}" + (" (unchanged since the last run)" if result.reused else ""))

    def eventFilter(self, obj: Any, ev: Any) -> bool:  # noqa: N802 - Qt's name
        if obj is self._view and ev.type() in (QEvent.Type.Leave, QEvent.Type.Hide):
            self._hover = None
            self.preview.hide()
        return False

    def hideEvent(self, e: Any) -> None:  # noqa: N802 - another page shown: no preview left floating
        self.preview.hide()
        super().hideEvent(e)

    def _hovered(self, i: int | None, where: QPoint) -> None:
        self._hover = None if i is None else int(self.photo_ids[i])
        if self._hover is None:
            self.preview.hide()
            return
        path, key = self.paths.get(self._hover, ("", None))
        img = self.thumbs.get(self._hover, path, key)
        self.preview.move(where + QPoint(16, 16))
        if img is not None:
            self.preview.setPixmap(QPixmap.fromImage(img))
        else:
            self.preview.setText("loading...")
        self.preview.adjustSize()
        self.preview.show()

    def _thumb(self, photo_id: int, image: Any) -> None:
        if photo_id == self._hover and self.preview.isVisible():
            self.preview.setPixmap(QPixmap.fromImage(image))
            self.preview.adjustSize()
