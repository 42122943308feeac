"""Draws a search result's matching part outlined on its thumbnail, with the score."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from organizer.gui.models import PartsRole
from organizer.gui.viewer import COLOURS


class MatchDelegate(QStyledItemDelegate):
    def paint(self, painter: QPainter, option: QStyleOptionViewItem,
              index: QModelIndex | QPersistentModelIndex) -> None:
        super().paint(painter, option, index)
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


def install(view: Any) -> MatchDelegate:
    d = MatchDelegate(view)
    view.setItemDelegate(d)
    return d
