"""Draws a search result's matching part outlined on its thumbnail, with the score."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QModelIndex, QPersistentModelIndex, QRectF, Qt
from PySide6.QtGui import QColor, QPainter, QPen
from PySide6.QtWidgets import QStyle, QStyledItemDelegate, QStyleOptionViewItem

from organizer.gui.models import PartsRole
from organizer.gui.thumbnails import SIZE
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
        # where the view drew the icon: centred at the top of the cell, scaled to fit SIZE x SIZE
        w, h = pixmap.width(), pixmap.height()
        scale = min(SIZE / max(w, 1), SIZE / max(h, 1), 1.0)
        iw, ih = w * scale, h * scale
        style = option.widget.style() if option.widget else None
        icon = style.subElementRect(QStyle.SubElement.SE_ItemViewItemDecoration, option, option.widget) if style \
            else option.rect
        left = icon.x() + (icon.width() - iw) / 2
        top = icon.y() + (icon.height() - ih) / 2
        x0, y0, x1, y1 = part.box
        rect = QRectF(left + x0 * iw, top + y0 * ih, (x1 - x0) * iw, (y1 - y0) * ih)
        painter.save()
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setPen(QPen(COLOURS.get(part.type, QColor(255, 255, 255)), 2))
        painter.drawRect(rect)
        painter.restore()


def install(view: Any) -> MatchDelegate:
    d = MatchDelegate(view)
    view.setItemDelegate(d)
    return d
