"""Searches off the UI thread: the newest query's answer is the one shown, an older one that ends later is
dropped; each runs as a Task, stopped at quit."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Signal

from organizer.gui.worker import Task, call


class Searches(QObject):
    finished = Signal(list)  # the newest query's results
    failed = Signal(str)  # the newest query's error, in words

    def __init__(self, search: Callable[[Any], list[Any]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._search = search
        self._serial = 0
        self._tasks: list[Task] = []

    def run(self, query: Any) -> None:
        self._serial += 1
        serial = self._serial
        task = Task(lambda: call(lambda: self._search(query)), self)
        # The Task's own signals come in the UI thread and die with their parent (the worker's, connected to a
        # lambda, ran it in the worker's thread, even after the window was deleted: "Signal source has been
        # deleted").
        task.done.connect(lambda results: self._answer(serial, results))
        task.failed.connect(lambda message: self._fail(serial, message))
        self._tasks = [t for t in self._tasks if t.running()] + [task]
        task.start()

    def _answer(self, serial: int, results: list[Any]) -> None:
        if serial == self._serial:  # else a newer query is on its way
            self.finished.emit(results)

    def _fail(self, serial: int, message: str) -> None:
        if serial == self._serial:
            self.failed.emit(message)

    @property
    def tasks(self) -> list[Task]:
        """The searches started and not known to have ended, oldest first."""
        return list(self._tasks)

    def stop(self, wait_ms: int) -> list[Task]:
        """At quit: the searches still running, asked to end; those not done within ``wait_ms`` are returned."""
        left = []
        for t in self._tasks:
            t.qthread.quit()
            if not t.qthread.wait(wait_ms):
                left.append(t)
        return left
