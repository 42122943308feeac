"""Run a core generator off the UI thread; its events come back as signals. Pause and cancel act between events."""

from __future__ import annotations

import threading
import traceback
from collections.abc import Callable, Iterator
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal

from organizer.errors import OrganizerError
from organizer.wording import with_remedy


class GeneratorWorker(QObject):
    progressed = Signal(object)  # every event the generator yields (not `event`: QObject.event is a virtual)
    done = Signal(object)  # the last event, when the generator ran to its end
    failed = Signal(str)  # a readable message
    cancelled = Signal()

    def __init__(self, make: Callable[[], Iterator[Any]]) -> None:
        super().__init__()
        self._make = make
        self._resume = threading.Event()
        self._resume.set()
        self._cancel = threading.Event()

    @property
    def paused(self) -> bool:
        return not self._resume.is_set()

    def pause(self) -> None:
        self._resume.clear()

    def resume(self) -> None:
        self._resume.set()

    def cancel(self) -> None:
        self._cancel.set()
        self._resume.set()

    def run(self) -> None:
        last = None
        gen = None
        try:
            gen = self._make()
            for ev in gen:
                last = ev
                self.progressed.emit(ev)
                self._resume.wait()
                if self._cancel.is_set():
                    close = getattr(gen, "close", None)  # a generator: the core stops between items
                    if close is not None:
                        close()  # what was committed stays
                    self.cancelled.emit()
                    return
            self.done.emit(last)
        except OrganizerError as e:
            self.failed.emit(with_remedy(e, "window"))
        except Exception as e:  # noqa: BLE001 - the window shows it instead of dying
            traceback.print_exc()
            self.failed.emit(f"Unexpected error: {type(e).__name__}: {e}")


class Task(QObject):
    """A worker on its own QThread; keep a reference while it runs."""

    finished = Signal()
    # The worker's done and failed, re-emitted from the Task's own (UI) thread: what a lambda connected here
    # runs there, and never after the Task (a child of the window) is gone with its window.
    done = Signal(object)
    failed = Signal(str)

    def __init__(self, make: Callable[[], Iterator[Any]], parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.qthread = QThread()
        self.worker = GeneratorWorker(make)
        self.worker.moveToThread(self.qthread)
        self.qthread.started.connect(self.worker.run)
        for sig in (self.worker.done, self.worker.failed, self.worker.cancelled):
            sig.connect(self.qthread.quit)
        self.qthread.finished.connect(self.finished)
        self.worker.done.connect(self._done)  # bound methods of a QObject: queued to its thread
        self.worker.failed.connect(self._failed)

    def _done(self, result: Any) -> None:
        self.done.emit(result)

    def _failed(self, message: str) -> None:
        self.failed.emit(message)

    def start(self) -> None:
        self.qthread.start()

    def running(self) -> bool:
        return self.qthread.isRunning()

    def stop(self, wait_ms: int = 30000) -> bool:
        """Cancel and wait up to ``wait_ms`` for the current step to end; False if it is still running (a
        model loading, a long batch): it stops at its next event, and :meth:`wait` waits for that."""
        self.worker.cancel()
        self.qthread.quit()
        return bool(self.qthread.wait(wait_ms))

    def wait(self, wait_ms: int = 120_000) -> bool:
        return bool(self.qthread.wait(wait_ms))


def call(fn: Callable[[], Any]) -> Iterator[Any]:
    """A plain call as a one-event generator, to run it through a Task."""
    yield fn()
