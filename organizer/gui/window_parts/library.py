"""The window's library pages: the gallery, clusters, landmarks, the checks for photos added elsewhere and for
folders gone offline, missing folders and skipped files."""

from __future__ import annotations

import logging
import os

from PySide6.QtWidgets import (
    QFileDialog,
    QLabel,
    QListWidget,
    QMessageBox,
    QVBoxLayout,
)

from organizer.errors import OrganizerError
from organizer.gui.models import Row
from organizer.gui.window_parts.shell import Shell
from organizer.wording import plural, skip_line

log = logging.getLogger("organizer.gui.window")


class LibraryPart(Shell):
    """Methods of :class:`organizer.gui.window.MainWindow` (a part of it, not an object of its own: it
    shares the window's widgets and state)."""


    # ---- pages -----------------------------------------------------------------------------------

    def refresh_library(self) -> None:
        """The library page from the store at once, with the folders last found offline; whether folders are
        there is checked off the UI thread (an unplugged network drive can take many seconds to answer), and
        the page is shown again when that changes what is offline."""
        self._stamp = self.lib.change_stamp()
        self._show_library()
        self._check_offline()

    def _check_outside(self) -> None:
        """Photos another organizer added or removed (`organizer index` or `forget` in a terminal) appear here
        within a few seconds; one cheap query while nothing of the window's own is running."""
        if self._closed or self._closing or (self.task is not None and self.task.running()):
            return
        try:
            if self.lib.change_stamp() != self._stamp:
                self.refresh_library()
        except OrganizerError:
            pass  # the library is busy or gone for a moment: the next tick looks again

    def _check_offline(self) -> None:
        if not self._closing:
            self.folders.check()

    def _offline_checked(self, gone: list[tuple[str, int]]) -> None:
        if self._closed:
            return
        if gone != self.offline:
            self.offline = gone
            if self.library_page.mark_offline(self._offline_prefixes()):  # in place: no new layout
                self.library_page.show_offline(gone)
            else:
                self._show_library()

    def _offline_prefixes(self) -> tuple[str, ...]:
        return tuple(f.rstrip(os.sep) + os.sep for f, _ in self.offline)

    def _show_library(self) -> None:
        gone = self.offline
        offline = self._offline_prefixes()
        rows = [Row.of(r, missing=bool(offline) and r.path.startswith(offline))
                for r in self.lib.photo_rows(self.library_page.order())]
        self.library_page.show_rows(rows)
        self.library_page.show_offline(gone)
        skipped, missing = self.lib.problem_counts()
        self.library_page.show_problems(skipped, missing)
        if missing:
            self.statusBar().showMessage(f"{plural(missing, 'photo')} missing: their files were "
                                         "not found at the last scan (kept; `organizer status` lists them).", 15000)

    def _tab_changed(self, _i: int) -> None:
        page = self.tabs.currentWidget()
        if page is self.landmarks_page:
            self.landmarks_page.show_counts(self.lib.landmark_counts(), self.lib.landmarks_unchecked())
        elif page is self.labels_page:
            self.labels_page.show_labels(self.lib.label_infos())
        elif page is self.people_page:
            self.show_people()
        elif page is self.places_page:
            self.places_page.show_points(self.lib.gps_points())
        elif page is self.clusters_page and self.clusters_page.list.count() == 0 and self.task_kind != "clusters":
            self.run_analysis("clusters", self.clusters_page.parts.isChecked(), False)
        elif (page is self.projection_page and not len(self.projection_page.photo_ids)
              and self.task_kind != "projection"):
            self.run_analysis("projection", self.projection_page.parts.isChecked(), False)

    def run_analysis(self, kind: str, parts: bool, force: bool) -> None:
        if self.task is not None and self.task.running():  # after the run (a restart resumes indexing)
            self._queued_analysis = (kind, parts, force)
            page = self.clusters_page if kind == "clusters" else self.projection_page
            page.status.setText("Waiting for the current run to finish; this starts right after it.")
            return
        mode = "parts" if parts else "whole"
        self._start(kind, (lambda: self.lib.clusters(mode, force)) if kind == "clusters" else
                    (lambda: self.lib.project(mode, force)))

    def _cluster_chosen(self, label: int) -> None:
        result = getattr(self, "_cluster_result", None)
        if result is None:
            return
        chosen = next((c for c in result.clusters if c.label == label), None)
        ids = chosen.photo_ids if chosen else []
        self.clusters_page.gallery.set_rows([Row.of(r) for r in self.lib.photo_rows(photo_ids=ids)])

    def _landmark_chosen(self, name: str) -> None:
        self.landmarks_page.gallery.set_rows([Row.of(r) for r in self.lib.photo_rows(landmark=name)])

    # ---- missing folders, skipped files ----------------------------------------------------------

    def _ask_folder(self, old: str) -> str | None:

        d = QFileDialog.getExistingDirectory(self, f"Where is {os.path.basename(old) or old} now?",
                                             os.path.dirname(old))
        return d or None

    def _ask_yes(self, question: str) -> bool:

        answer = QMessageBox.question(self, "organizer", question)
        return answer == QMessageBox.StandardButton.Yes

    def locate_folder(self, old: str) -> None:
        new = self.ask_folder(old)
        if not new:
            return
        try:
            n = self.lib.relocate(old, new)
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
            return
        self.statusBar().showMessage(f"{plural(n, 'file')} found in {new}: their photos are back, with everything "
                                     "they had.", 10000)
        self.offline = [(f, k) for f, k in self.offline if f != old]
        self.refresh_library()

    def forget_folder(self, old: str) -> None:
        n = self.lib.photos_under(self.lib.paths_to_forget([old]))
        if not self.ask_yes(f"Take the {plural(n, 'photo')} from {old} out of the library? Their analysis and "
                            "labels go with them (a backup is kept)."):
            return
        try:
            self.lib.backup("before forgetting a folder")
            _, photos = self.lib.forget([old])
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
            return
        self.statusBar().showMessage(f"{plural(photos, 'photo')} from {old} left the library.", 10000)
        self.offline = [(f, k) for f, k in self.offline if f != old]
        self.refresh_library()

    def show_problem_files(self) -> None:
        """The files that could not be read (with why) and the photos whose files are missing, in one list."""
        from PySide6.QtWidgets import QDialog, QDialogButtonBox

        skipped, missing = self.lib.problem_files()
        dialog = QDialog(self)
        dialog.setWindowTitle("Skipped and missing files")
        lines = QListWidget()
        for f in skipped:
            lines.addItem("skipped  " + skip_line(f.path, f.reason, f.detail))
        for p in missing:
            lines.addItem(f"missing  {p} (kept; `organizer prune --missing` forgets missing files)")
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        buttons.rejected.connect(dialog.reject)
        layout = QVBoxLayout(dialog)
        layout.addWidget(QLabel(f"{plural(len(skipped), 'file')} skipped, {plural(len(missing), 'file')} missing"))
        layout.addWidget(lines, 1)
        layout.addWidget(buttons)
        dialog.resize(900, 480)
        self.problem_dialog = dialog
        dialog.show()

