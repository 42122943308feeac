"""Light or dark, as the system is (and as it changes); ``ORGANIZER_THEME=dark|light`` overrides."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QColor, QPalette
from PySide6.QtWidgets import QApplication


def dark_palette() -> QPalette:
    p = QPalette()
    base, window, text = QColor(30, 30, 32), QColor(45, 45, 48), QColor(230, 230, 230)
    for role, colour in ((QPalette.ColorRole.Window, window), (QPalette.ColorRole.WindowText, text),
                         (QPalette.ColorRole.Base, base), (QPalette.ColorRole.AlternateBase, window),
                         (QPalette.ColorRole.ToolTipBase, window), (QPalette.ColorRole.ToolTipText, text),
                         (QPalette.ColorRole.Text, text), (QPalette.ColorRole.Button, window),
                         (QPalette.ColorRole.ButtonText, text), (QPalette.ColorRole.BrightText, QColor(255, 80, 80)),
                         (QPalette.ColorRole.Link, QColor(110, 160, 255)),
                         (QPalette.ColorRole.Highlight, QColor(61, 123, 217)),
                         (QPalette.ColorRole.HighlightedText, QColor(255, 255, 255)),
                         (QPalette.ColorRole.PlaceholderText, QColor(150, 150, 150))):
        p.setColor(role, colour)
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.Text, QColor(120, 120, 120))
    p.setColor(QPalette.ColorGroup.Disabled, QPalette.ColorRole.ButtonText, QColor(120, 120, 120))
    return p


def wanted_dark(app: QApplication) -> bool:
    forced = os.environ.get("ORGANIZER_THEME", "").lower()
    if forced in ("dark", "light"):
        return forced == "dark"
    return app.styleHints().colorScheme() == Qt.ColorScheme.Dark


def apply(app: QApplication) -> None:
    """Dark where the system is dark (Fusion with a dark palette, the same on every system), else the
    platform's own look; follows the system when it switches."""
    light = app.palette()

    def update() -> None:
        if wanted_dark(app):
            app.setStyle("Fusion")
            app.setPalette(dark_palette())
        else:
            app.setPalette(light)

    update()
    app.styleHints().colorSchemeChanged.connect(lambda _scheme: update())
