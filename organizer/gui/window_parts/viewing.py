"""The window's viewing: the photo viewer's navigation and the search page's queries."""

from __future__ import annotations

import logging
from typing import Any

from organizer.gui.models import Row
from organizer.gui.window_parts.shell import Shell
from organizer.wording import plural

log = logging.getLogger("organizer.gui.window")


class ViewingPart(Shell):
    """Methods of :class:`organizer.gui.window.MainWindow` (a part of it, not an object of its own: it
    shares the window's widgets and state)."""


    # ---- people ----------------------------------------------------------------------------------

    def open_set(self, photo_ids: list[int]) -> None:
        """A selection from the map, shown as results on the search page."""
        rows = [Row.of(r) for r in self.lib.photo_rows(photo_ids=photo_ids)]
        self.search_page.results.set_rows(rows)
        self.search_page.status.setText(f"{plural(len(rows), 'photo')} selected on the map")
        self.stack.setCurrentWidget(self.tabs)
        self.tabs.setCurrentWidget(self.search_page)

    def open_photo(self, photo_id: int, parts: list[Any] | None, sequence: list[int] | None = None,
                   gallery: Any = None) -> None:
        """The photo, large, in the viewer pane; Left and Right go through ``sequence`` (the gallery it was
        opened from), and back in the gallery the last photo shown is the current one."""
        details = self.lib.photo_details(photo_id)
        if details is None:
            self.show_message("That photo is no longer in the library.")
            return
        self._viewer_from = gallery
        self.viewer.open(details, {p.part_id for p in parts or []}, sequence)
        self.stack.setCurrentWidget(self.viewer)
        self.viewer.setFocus()

    def _full_screen(self, full: bool) -> None:
        """The photo alone in full screen: the menu, the status bar and the run's progress go meanwhile."""
        self.menuBar().setVisible(not full)
        self.statusBar().setVisible(not full)
        if full:
            self._progress_was_shown = self.progress_box.isVisible()
            self.progress_box.setVisible(False)
        elif getattr(self, "_progress_was_shown", False):
            self.progress_box.setVisible(self.task is not None and self.task.running())

    def photo_shown(self) -> bool:
        return self.stack.currentWidget() is self.viewer

    def close_photo(self) -> None:
        """Back from the viewer to the page it was opened from, with the photo last shown current there."""
        self.stack.setCurrentWidget(self.tabs)
        g = self._viewer_from
        if g is not None:
            row = g.model_.row_of(self.viewer.details.id)
            if row is not None:
                g.setCurrentIndex(g.model_.index(row))
                g.scrollTo(g.model_.index(row))
            g.setFocus()

    # ---- search ----------------------------------------------------------------------------------

    def run_search(self, query: Any) -> None:
        self.searches.run(query)

    def _search_done(self, results: list[Any]) -> None:
        rows = [Row(r.photo_id, r.path, r.hash, r.score, r.parts) for r in results]
        self.search_page.results.set_rows(rows)
        self.search_page.status.setText(plural(len(rows), "photo") if rows else "No photos match.")
        self.search_finished.emit(len(rows))

    def _search_failed(self, message: str) -> None:
        self.search_page.status.setText("")
        self.show_message(message)
        self.search_finished.emit(-1)

