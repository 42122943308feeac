"""Draws gallery tiles: date headers across the gallery's width, and a search result's matching part outlined
on its thumbnail."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, QSize, Qt
from PySide6.QtGui import QColor, QPainter, QPalette, QPen
from PySide6.QtWidgets import QListView, QStyle, QStyledItemDelegate, QStyleOptionViewItem

from organizer.gui.models import HeaderRole, MissingRole, PartsRole
from organizer.gui.viewer import COLOURS

HEADER_HEIGHT = 34


def tile_size(side: int) -> QSize:
    """A photo's tile for thumbnails of ``side`` pixels: the thumbnail with room for its caption."""
    return QSize(side + 20, side + 40)


class TileDelegate(QStyledItemDelegate):
    """A photo tile as the style draws it; a date header as a line of bold text the whole width of the view
    (so the photos after it start a row of their own)."""

    def __init__(self, view: QListView) -> None:
        super().__init__(view)
        self.view = view
        self.model = getattr(view, "model_", None)  # a PhotoListModel: its rows are read directly
        self.tile = tile_size(view.iconSize().width())

    def set_side(self, side: int) -> None:
        self.tile = tile_size(side)

    def header(self, index: QModelIndex | QPersistentModelIndex) -> str | None:
        """The date header a row shows (None for a photo), read from the gallery's rows directly: asked for
        every row at each layout."""
        return self.model.rows[index.row()].header if self.model is not None else index.data(HeaderRole)

    def sizeHint(self, option: QStyleOptionViewItem,  # noqa: N802 - Qt's name
                 index: QModelIndex | QPersistentModelIndex) -> QSize:
        # asked for every row at each layout (10k rows: 0.1 s of Python): a list lookup, the tile size cached
        if self.header(index) is None:
            return self.tile
        return QSize(max(self.tile.width(), self.view.viewport().width() - 2 * self.view.spacing() - 1), HEADER_HEIGHT)

    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        header = self.header(index)
        if header is None:
            super().paint(painter, option, index)
            return
        painter.save()
        font = option.font
        font.setBold(True)
        font.setPointSizeF(font.pointSizeF() * 1.15)
        painter.setFont(font)
        painter.setPen(option.palette.color(QPalette.ColorGroup.Active, QPalette.ColorRole.WindowText))
        r = option.rect.adjusted(6, 0, -6, -4)
        painter.drawText(r, Qt.AlignmentFlag.AlignLeft | Qt.AlignmentFlag.AlignBottom, header)
        painter.restore()


class MatchDelegate(TileDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        super().paint(painter, option, index)
        if self.header(index) is not None:
            return
        if index.data(MissingRole):
            _paint_badge(painter, option)
        parts = index.data(PartsRole) or []
        part = next((p for p in parts if p.type != "whole"), None)
        pixmap = index.data(Qt.ItemDataRole.DecorationRole)
        if part is None or pixmap is None or pixmap.isNull():
            return
        # Where the view drew the thumbnail: the decoration rectangle of the option as initialised for
        # this index (its size is the pixmap's own, not the view's icon size), the image letterboxed in it.
        opt = QStyleOptionViewItem(option)
        self.initStyleOption(opt, index)
        style = opt.widget.style() if opt.widget else None
        cell = style.subElementRect(QStyle.SubElement.SE_ItemViewItemDecoration, opt, opt.widget) if style \
            else opt.rect
        w, h = pixmap.width() / pixmap.devicePixelRatio(), pixmap.height() / pixmap.devicePixelRatio()
        scale = min(cell.width() / max(w, 1), cell.height() / max(h, 1), 1.0)
        iw, ih = w * scale, h * scale
        image = QRectF(cell.x() + (cell.width() - iw) / 2, cell.y() + (cell.height() - ih) / 2, iw, ih)
        x0, y0, x1, y1 = (min(max(v, 0.0), 1.0) for v in part.box)
        rect = QRectF(image.x() + x0 * iw, image.y() + y0 * ih, (x1 - x0) * iw, (y1 - y0) * ih)
        painter.save()
        painter.setClipRect(image)  # never over the neighbouring tiles or the caption
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(COLOURS.get(part.type, QColor(255, 255, 255)), 2))
        painter.drawRect(rect)
        painter.restore()


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


def install(view: Any) -> MatchDelegate:
    d = MatchDelegate(view)
    view.setItemDelegate(d)
    return d
