"""The window's undo history: what each action was and how to take it back, newest last (at most 20)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

KEEP = 20


class UndoHistory(QObject):
    changed = Signal(str)  # what Undo would undo now ("" when nothing)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._steps: list[tuple[str, Callable[[], object]]] = []

    def push(self, what: str, undo: Callable[[], object]) -> None:
        self._steps = [*self._steps[-(KEEP - 1):], (what, undo)]
        self.changed.emit(what)

    def undo(self) -> tuple[str, Exception | None] | None:
        """Take back the newest action: (what it was, the error that stopped it or None); None when there was
        nothing to undo."""
        if not self._steps:
            return None
        what, fn = self._steps.pop()
        error: Exception | None = None
        try:
            fn()
        except Exception as e:  # noqa: BLE001 - said by the window, not raised
            error = e
        self.changed.emit(self.next())
        return what, error

    def next(self) -> str:
        return self._steps[-1][0] if self._steps else ""
