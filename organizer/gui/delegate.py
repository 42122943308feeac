"""Draws gallery tiles: the day's name above a day's tiles, and a search result's matching part outlined
on its thumbnail."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRect, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from organizer.gui.models import DurationRole, KindRole, MissingRole, PartsRole
from organizer.gui.viewer import COLOURS
from organizer.wording import clip_time

DAY_STRIP = 24  # the height of the line above a tile that names the day (the library sorted by date)


def tile_size(side: int, strip: int = 0) -> QSize:
    """A photo's tile for thumbnails of ``side`` pixels: the thumbnail with room for its caption (and for the
    day's name above it, ``strip`` pixels, in a gallery grouped by day)."""
    return QSize(side + 20, side + 40 + strip)


def day_labels(taken_at: str | None, count: int) -> list[str]:
    """A day's names, longest first: the painter takes the first that fits the tiles the day has on a row."""
    from datetime import datetime

    from organizer.wording import date_words

    try:
        t = datetime.fromisoformat(taken_at) if taken_at else None
    except ValueError:
        t = None
    if t is None:
        return [f"No date  ({count})", "No date"]
    return [f"{date_words(taken_at, 'day')}  ({count})", f"{t:%a} {t.day} {t:%b %Y}  ({count})",
            f"{t:%a} {t.day} {t:%b %Y}", f"{t.day} {t:%b %Y}", f"{t.day} {t:%b}"]


class TileDelegate(QStyledItemDelegate):
    """A photo tile as the style draws it. In a gallery grouped by day, the days are packed into rows (a day
    of one photo takes one tile, not a row of its own): each tile has a strip above its picture where the
    first tile of a day, and the first of each row the day continues on, names the day across the day's tiles
    on that row."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self.view = view
        self.model = getattr(view, "model_", None)  # a PhotoListModel: its rows are read directly
        self.strip = 0
        self.tile = tile_size(view.iconSize().width())

    def set_side(self, side: int, strip: int | None = None) -> None:
        self.strip = self.strip if strip is None else strip
        self.tile = tile_size(side, self.strip)

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802 - Qt's name
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        return self.tile  # asked for every row at each layout (100k rows): the tile size cached

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        if not self.strip:
            self.paint_tile(painter, option, index)
            return
        tile = QStyleOptionViewItem(option)
        tile.rect = option.rect.adjusted(0, self.strip, 0, 0)
        self.paint_tile(painter, tile, index)
        day = self.day_label(index, option.rect)
        if day is None:
            return
        text, rect, starts = day
        painter.save()
        painter.setClipRect(option.rect.x(), option.rect.y(), option.rect.width(), self.strip)
        font = option.font
        font.setBold(True)
        painter.setFont(font)
        role = QPalette.ColorRole.WindowText if starts else QPalette.ColorRole.PlaceholderText
        painter.setPen(option.palette.color(QPalette.ColorGroup.Active, role))
        painter.drawText(rect.adjusted(6, 0, -4, -2), Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom,
                         text)
        painter.restore()

    def paint_tile(self, painter: QPainter, option: QStyleOptionViewItem,
                   index: QModelIndex | QPersistentModelIndex) -> None:
        super().paint(painter, option, index)

    def day_label(self, index: QModelIndex | QPersistentModelIndex,
                  rect: Any) -> tuple[str, Any, bool] | None:
        """The day's name over the tile at ``rect`` (the view's rectangle of ``index``): its text, the
        rectangle it spans (the day's tiles on this row, from the first of them) and whether the day starts
        there (else it goes on from the row before). Each tile paints its own part of it, so a tile repainted
        alone shows the same name as its neighbours."""
        if self.model is None:
            return None
        rows = self.model.rows
        row = index.row()
        r = rows[row]
        if r.day_first < 0:
            return None
        first = rows[r.day_first]
        width = max(1, self.tile.width())
        col = max(0, rect.x() // width)
        columns = max(1, self.view.viewport().width() // width)
        anchor = max(r.day_first, row - col)  # the day's first tile on this row
        run = min(r.day_first + first.day_size, anchor + columns - (col - (row - anchor))) - anchor
        span = QRect(rect.x() - (row - anchor) * width, rect.y(), run * width, self.strip)
        metrics = self.view.fontMetrics()
        labels = day_labels(first.taken_at, first.day_size)
        text = next((t for t in labels if metrics.boundingRect(t).width() * 1.1 + 12 <= span.width()), labels[-1])
        return text, span, anchor == r.day_first


class MatchDelegate(TileDelegate):
    def paint_tile(self, painter: QPainter, option: QStyleOptionViewItem,
                   index: QModelIndex | QPersistentModelIndex) -> None:
        super().paint_tile(painter, option, index)
        if index.data(MissingRole):
            _paint_badge(painter, option)
        duration = index.data(DurationRole)
        kind = index.data(KindRole)
        parts = index.data(PartsRole) or []
        # a part of a video's later scene is not outlined on its poster
        part = next((p for p in parts if p.type not in ("whole", "frame") and getattr(p, "at_seconds", None) is None),
                    None)
        if part is None and duration is None and kind is None:
            return
        image = self._picture(option, index)
        if image is None:
            return
        if duration is not None:
            _paint_duration(painter, image, "\u25b6 " + clip_time(duration))
        elif kind is not None:  # a RAW kept with the JPEG, a Live Photo's or motion photo's clip
            _paint_duration(painter, image, kind)
        if part is None:
            return
        iw, ih = image.width(), image.height()
        x0, y0, x1, y1 = (min(max(v, 0.0), 1.0) for v in part.box)
        rect = QRectF(image.x() + x0 * iw, image.y() + y0 * ih, (x1 - x0) * iw, (y1 - y0) * ih)
        painter.save()
        painter.setClipRect(image)  # never over the neighbouring tiles or the caption
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(COLOURS.get(part.type, QColor(255, 255, 255)), 2))
        painter.drawRect(rect)
        painter.restore()

    def _picture(self, option: QStyleOptionViewItem, index: QModelIndex | QPersistentModelIndex) -> QRectF | None:
        """Where the view drew the thumbnail: the decoration rectangle of the option as initialised for this index
        (its size is the pixmap's own, not the view's icon size), the image letterboxed in it."""
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if pixmap is None or pixmap.isNull():
            return None
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget else None
        cell = style.subElementRect(QStyle.SubElement.SE_ItemViewItemDecoration, opt, opt.widget) if style \
            else opt.rect
        w, h = pixmap.width() / pixmap.devicePixelRatio(), pixmap.height() / pixmap.devicePixelRatio()
        scale = min(cell.width() / max(w, 1), cell.height() / max(h, 1), 1.0)
        iw, ih = w * scale, h * scale
        return QRectF(cell.x() + (cell.width() - iw) / 2, cell.y() + (cell.height() - ih) / 2, iw, ih)


MISSING_COLOUR = QColor(176, 32, 32)


def _badge_rect(option: QStyleOptionViewItem) -> QRectF:
    return QRectF(option.rect.x() + 6, option.rect.y() + 6, 62, 18)


def _paint_badge(painter: QPainter, option: QStyleOptionViewItem) -> None:
    """"missing" on the picture of a photo whose files are not there (it was only in its caption)."""
    rect = _badge_rect(option)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(MISSING_COLOUR)
    painter.drawRoundedRect(rect, 4, 4)
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, "missing")
    painter.restore()


def _paint_duration(painter: QPainter, image: QRectF, text: str) -> None:
    """A mark in the bottom right corner of a picture: a video's length as players show it ("\u25b6 0:42"), "RAW"
    or "LIVE"."""
    width = painter.fontMetrics().horizontalAdvance(text) + 12
    rect = QRectF(image.right() - width - 4, image.bottom() - 22, width, 18)
    painter.save()
    painter.setRenderHint(QPainter.RenderHint.Antialiasing)
    painter.setPen(Qt.PenStyle.NoPen)
    painter.setBrush(QColor(0, 0, 0, 170))
    painter.drawRoundedRect(rect, 4, 4)
    painter.setPen(QColor(255, 255, 255))
    painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, text)
    painter.restore()


def install(view: Any) -> MatchDelegate:
    d = MatchDelegate(view)
    view.setItemDelegate(d)
    return d
