"""The window's indexing: adding folders and files, resuming, pause and cancel, progress and the summary."""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from PySide6.QtCore import QTimer

from organizer.gui.window_parts.shell import Shell
from organizer.gui.worker import Task
from organizer.progress import Notice, Progress, Skipped, Stored, Summary
from organizer.wording import index_summary, phase_name, plural, skip_line

log = logging.getLogger("organizer.gui.window")


def _eta(seconds: float | None) -> str:
    if seconds is None:
        return ""
    s = int(seconds)
    return f", {s // 60}:{s % 60:02d} left" if s >= 1 else ""


class IndexingPart(Shell):
    """Methods of :class:`organizer.gui.window.MainWindow` (a part of it, not an object of its own: it
    shares the window's widgets and state)."""


    # ---- indexing --------------------------------------------------------------------------------

    def add_paths(self, paths: list[str]) -> None:
        if self.task is not None and self.task.running():
            self.queue.append(paths)
            queued = sum(len(p) for p in self.queue)
            self.statusBar().showMessage(f"Queued {plural(queued, 'item')}; they are indexed after the current run.")
            return
        self.skipped_list.clear()
        self.skipped_button.setText("Skipped: 0")
        self._start("index", lambda: self.lib.index(paths))

    def resume_pending(self) -> None:
        """Finish what a closed or killed run left, in the background (models load there too)."""
        def resume() -> Iterator[Any]:
            if self.lib.pending_work():  # an unfinished scan (the core keeps its roots) or pass
                yield Notice("Resuming the last run.")
                yield from self.lib.index([])

        if (self.lib.pending_roots() or self.lib.photo_count()) and not (
                self.task is not None and self.task.running()):
            self._start("index", resume)

    def _start(self, kind: str, make: Callable[[], Iterator[Any]]) -> None:
        if self._closed:  # a timer that fired after the window closed starts nothing
            return
        self.task_kind = kind
        if kind == "index":
            self.library_page.show_summary([])  # the last run's summary gives way to this one's progress
        self.task = Task(make, self)
        w = self.task.worker
        w.progressed.connect(self._on_event)
        w.done.connect(self._on_done)
        w.failed.connect(self._on_failed)
        w.cancelled.connect(self._on_cancelled)
        self.progress_box.setVisible(True)
        self.progress.setRange(0, 0)
        self.progress_label.setText("Starting...")
        self.pause_button.setText("Pause")
        self.task.start()

    def toggle_pause(self) -> None:
        if self.task is None:
            return
        w = self.task.worker
        if w.paused:
            w.resume()
            self.pause_button.setText("Pause")
        else:
            w.pause()
            self.pause_button.setText("Resume")
            self.progress_label.setText(self.progress_label.text() + " (paused)")

    def cancel(self) -> None:
        if self.task is not None and self.task.running():
            self.progress_label.setText("Cancelling...")
            self.task.worker.cancel()

    def _on_event(self, ev: Any) -> None:
        if isinstance(ev, Progress):
            if ev.total:
                self.progress.setRange(0, ev.total)
                self.progress.setValue(ev.done)
            else:
                self.progress.setRange(0, 0)
            name = phase_name(ev.phase)
            if ev.phase == "download":
                rate = f", {ev.rate / 1e6:.1f} MB/s" if ev.rate else ""
                count = f" {ev.done / 1e6:.0f}/{ev.total / 1e6:.0f} MB" if ev.total else f" {ev.done / 1e6:.0f} MB"
                if ev.total > 2**31 - 1:
                    self.progress.setRange(0, 1000)
                    self.progress.setValue(int(ev.done / ev.total * 1000))
            else:
                rate = f", {ev.rate:.1f}/s" if ev.rate else ""
                count = f" {ev.done}/{ev.total}" if ev.total else ""
            current = f" - {Path(ev.path).name}" if ev.path and "/" in ev.path else (f" - {ev.path}" if ev.path else "")
            paused = " (paused)" if self.task is not None and self.task.worker.paused else ""  # kept while paused
            self.progress_label.setText(f"{name}{count}{rate}{_eta(ev.eta)}{current}{paused}")
        elif isinstance(ev, Skipped):
            self.skipped_list.addItem(skip_line(ev.path, ev.reason, ev.detail))
            self.skipped_button.setText(f"Skipped: {self.skipped_list.count()}")
        elif isinstance(ev, Stored):
            if not self._refresh_timer.isActive():
                self._refresh_timer.start()
        elif isinstance(ev, Notice):
            self.statusBar().showMessage(ev.message, 8000)

    def _finish(self) -> None:
        self.progress_box.setVisible(False)
        kind, self.task_kind = self.task_kind, ""
        self.task = None
        if kind == "index":
            self.refresh_library()
            if self.queue:
                self.add_paths(self.queue.pop(0))
        if self._queued_analysis is not None and self.task is None:
            queued, self._queued_analysis = self._queued_analysis, None
            QTimer.singleShot(0, lambda: self.run_analysis(*queued))

    def _on_done(self, last: Any) -> None:
        kind = self.task_kind
        if kind == "index":
            self._finish()
            self.hide_message()  # a run that succeeded: the error of an earlier one is history
            if isinstance(last, Summary):
                lines = index_summary(last)
                self.statusBar().showMessage(lines[0], 15000)
                self.library_page.show_summary(lines)  # whole and wrapped, until the next run
            self.indexing_finished.emit(last if isinstance(last, Summary) else None)
            return
        self._finish()
        if kind == "clusters":
            covers = {c.cover_photo_id for c in last.clusters if c.cover_photo_id}
            rows = {r.id: (r.path, r.hash) for r in self.lib.photo_rows(photo_ids=list(covers))}
            self._cluster_result = last
            self.clusters_page.show_result(last, rows)
        elif kind == "projection":
            rows = {r.id: (r.path, r.hash) for r in self.lib.photo_rows(
                photo_ids=sorted(set(last.points.photo_ids.tolist())))}
            self.projection_page.show_result(last, rows)
        self.task_finished.emit(kind)

    def _on_failed(self, message: str) -> None:
        kind = self.task_kind
        self._finish()
        self.show_message(message)
        if kind == "index":
            self.indexing_finished.emit(None)
        else:
            self.task_finished.emit(kind)

    def _on_cancelled(self) -> None:
        kind = self.task_kind
        self._finish()
        self.statusBar().showMessage("Cancelled. Everything stored so far is kept; add the folder again to go on.",
                                     15000)
        if kind == "index":
            if not self._closing:  # closing keeps the pending folders: the next start resumes them
                self.lib.clear_pending()
            self.indexing_finished.emit(None)
        else:
            self.task_finished.emit(kind)

