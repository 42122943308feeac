"""The bar above the clusters and map pages: whole photos or objects, Recompute, and what was computed."""

from __future__ import annotations

from PySide6.QtCore import Signal
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton, QWidget


class AnalysisBar(QWidget):
    compute = Signal(bool, bool)  # parts mode, force

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.parts = QCheckBox("Objects instead of whole photos")
        self.button = QPushButton("Recompute")
        self.status = QLabel("Not computed yet.")
        self.button.clicked.connect(lambda: self.compute.emit(self.parts.isChecked(), True))
        self.parts.toggled.connect(lambda on: self.compute.emit(on, False))
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.parts)
        row.addWidget(self.button)
        row.addWidget(self.status, 1)
