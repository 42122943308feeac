"""The window's curation: labels, people, removing photos, and the undo of all of them."""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar

from PySide6.QtCore import Qt

from organizer.gui.models import Row
from organizer.gui.window_parts.shell import Shell
from organizer.parts import Box
from organizer.wording import plural

if TYPE_CHECKING:
    from organizer.people.people import Named

T = TypeVar("T")

log = logging.getLogger("organizer.gui.window")


@dataclass(frozen=True, slots=True)


class FaceMark:
    """A face to outline on a tile (as a search result's matching part is): the People page's photos."""

    part_id: int
    box: Box
    type: str = "face"


class CurationPart(Shell):
    """Methods of :class:`organizer.gui.window.MainWindow` (a part of it, not an object of its own: it
    shares the window's widgets and state)."""


    # ---- labels ----------------------------------------------------------------------------------

    def _ask_label_name(self) -> str | None:
        from PySide6.QtWidgets import QInputDialog

        # empty at first, never a name chosen for the user: Enter on a pre-filled first name mislabelled photos
        names = ["", *sorted(self.lib.label_names(), key=str.lower)]
        name, ok = QInputDialog.getItem(self, "Label as", "Name (a person, a place, a pet):", names, 0, True)
        return name.strip() if ok and name.strip() else None

    def label_photos(self, photo_ids: list[int]) -> None:
        self._label_items(lambda name: self.lib.label_photos(name, photo_ids))

    def label_part(self, part_id: int) -> None:
        self._label_items(lambda name: self.lib.label_parts(name, [part_id]))
        if self.photo_shown():  # the new label on the part's outline
            details = self.lib.photo_details(self.viewer.details.id)
            if details is not None:
                self.viewer.show_details(details)

    def _label_items(self, add: Callable[[str], int]) -> None:
        name = self.ask_label_name()
        if not name:
            return
        added = self._curate(lambda: add(name))
        if added is None:
            return
        self.statusBar().showMessage(f"{name}: {added} added. Type its name in search to find it.", 8000)
        if self.tabs.currentWidget() is self.labels_page:
            self.labels_page.show_labels(self.lib.label_infos())

    def _label_chosen(self, name: str) -> None:
        ids = self.lib.label_photo_ids(name)
        self.labels_page.members.set_rows([Row.of(r) for r in self.lib.photo_rows(photo_ids=ids)])
        sugg = []
        if self.lib.label_has_concept(name):  # a person's label holds faces: the People page suggests for them
            try:
                sugg = self.lib.suggest(name, 30)
            except Exception as e:  # noqa: BLE001
                self.show_message(str(e))
        self.labels_page.suggestions.set_rows([Row(r.photo_id, r.path, r.hash, r.score, r.parts) for r in sugg])

    def _labels_changed(self, select: str | None = None) -> None:
        self.labels_page.show_labels(self.lib.label_infos())
        for i in range(self.labels_page.list.count()):
            if self.labels_page.list.item(i).data(Qt.ItemDataRole.UserRole) == select:
                self.labels_page.list.setCurrentRow(i)

    def _label_renamed(self, old: str, new: str) -> None:
        self._curate(lambda: self.lib.rename_label(old, new))
        self._labels_changed(new)

    def _label_deleted(self, name: str) -> None:
        self._curate(lambda: self.lib.remove_label(name))
        self._labels_changed()
        self.labels_page.members.set_rows([])
        self.labels_page.suggestions.set_rows([])

    def _label_taken_out(self, name: str, photo_ids: list[int]) -> None:
        self._curate(lambda: self.lib.remove_label(name, self.lib.label_parts_of(name, photo_ids)))
        self._label_chosen(name)
        self._labels_changed(name)

    def _label_answered(self, name: str, photo_ids: list[int], confirmed: bool) -> None:
        self._curate(lambda: self.lib.label_photos(name, photo_ids, positive=confirmed))
        self._label_chosen(name)
        self.labels_page.show_labels(self.lib.label_infos())

    # ---- many photos at once, and undo -----------------------------------------------------------

    def push_undo(self, what: str, undo: Callable[[], object]) -> None:
        self.undos.push(what, undo)

    def _undo_changed(self, what: str) -> None:
        self.undo_action.setEnabled(bool(what))
        self.undo_action.setText(f"&Undo {what}" if what else "&Undo")

    def undo(self) -> None:
        done = self.undos.undo()
        if done is None:
            return
        what, error = done
        if error is not None:
            self.show_message(str(error))
        else:
            self.statusBar().showMessage(f"Undone: {what}.", 8000)
        self.refresh_library()
        if self.tabs.currentWidget() is self.labels_page:
            self.labels_page.show_labels(self.lib.label_infos())
        elif self.tabs.currentWidget() is self.people_page:
            self.show_people()

    def remove_photos(self, photo_ids: list[int]) -> None:
        """Take the selected photos out of the library (their files stay on disk); Edit > Undo brings them back."""
        if self.task is not None and self.task.running():
            self.statusBar().showMessage("Wait for the current run to finish.", 5000)
            return
        if len(photo_ids) > 1 and not self.ask_yes(f"Take {plural(len(photo_ids), 'photo')} out of the library? "
                                                   "The files stay where they are; Edit > Undo brings them back."):
            return
        try:
            removed, token = self.lib.remove_photos(photo_ids)
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
            return
        self.push_undo(f"remove {plural(removed, 'photo')}", lambda: self.lib.undo_remove(token) and None)
        self.statusBar().showMessage(f"{plural(removed, 'photo')} taken out of the library (Ctrl+Z undoes it).",
                                     10000)
        self.refresh_library()

    def reveal_photos(self, photo_ids: list[int]) -> None:
        """Open the folders of the selected photos (each once) in the file manager."""
        from PySide6.QtCore import QUrl
        from PySide6.QtGui import QDesktopServices

        folders = list(dict.fromkeys(os.path.dirname(p) for p in self.lib.first_paths(photo_ids).values()))
        opened = [f for f in folders[:10] if os.path.isdir(f) and QDesktopServices.openUrl(QUrl.fromLocalFile(f))]
        if len(opened) < min(len(folders), 10):
            self.statusBar().showMessage("No file manager could be opened here. The folders: " + ", ".join(folders[:5]),
                                         15000)

    # ---- people ----------------------------------------------------------------------------------

    def show_people(self) -> None:
        try:
            off = self.lib.faces_off()
            self._overview = self.lib.people_overview()
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
            return
        covers = self.lib.face_places([p.cover for p in self._overview.people if p.cover is not None])
        self.people_page.show_people(self._overview, covers, off)
        if self.people_page.current() is None and self.people_page.list.count():
            self.people_page.list.setCurrentRow(0)

    def _person(self, ref: str) -> Any:
        people = self._overview.people if self._overview is not None else []
        return next((p for p in people if (p.name if p.name is not None else str(p.number)) == ref), None)

    def _person_chosen(self, ref: str) -> None:
        person = self._person(ref)
        if person is None:
            return
        suggested = self.lib.part_photos(person.suggested) if person.name is not None else {}
        theirs = set(self.lib.part_photos(person.faces).values())
        only_suggested = set(suggested.values()) - theirs  # asked about below, not shown twice
        shown = [p for p in person.photos if p not in only_suggested]
        # each photo's face of theirs outlined on its tile: in a group shot, which face is meant is seen
        places = self.lib.face_places(person.faces + person.suggested)
        photo_of = self.lib.part_photos(list(places))
        by_photo = {photo_of[f]: FaceMark(f, box) for f, (_, box) in places.items() if f in photo_of}

        def rows_of(ids: list[int]) -> list[Row]:
            out = []
            for r in self.lib.photo_rows(photo_ids=ids):
                row = Row.of(r)
                if r.id in by_photo:
                    row.parts = [by_photo[r.id]]
                out.append(row)
            return out

        self.people_page.photos.set_rows(rows_of(shown))
        self.people_page.title.setText(f"{person.title}: {plural(len(shown), 'photo')}")
        self.people_page.not_them.setEnabled(person.name is not None)
        ids = list(dict.fromkeys(suggested[f] for f in person.suggested if f in suggested))
        self.people_page.suggestions.set_rows(rows_of(ids))
        self.people_page.show_suggestions(bool(ids))

    def _curate(self, action: Callable[[], T]) -> T | None:
        """A labels or people action of the library's (journaled there), undoable from Edit > Undo (and
        `organizer undo`); None when it failed (said in the window)."""
        try:
            result = action()
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
            return None
        self.push_undo(self.lib.undo_what() or "change", lambda: self.lib.undo_last() and None)
        return result

    def _person_renamed(self, ref: str, name: str) -> None:
        from organizer.people.people import NameInUseError

        done: Named | None
        try:
            done = self.lib.name_person(ref, name)
        except NameInUseError as e:
            if not self.ask_yes(f"{e.name} is already a person ({plural(e.faces, 'face')}). Merge these faces "
                                f"into {e.name}? Edit > Undo takes it back."):
                self.show_people()
                return
            done = self._curate(lambda: self.lib.name_person(ref, name, merge=True))
        except Exception as e:  # noqa: BLE001 - shown, not raised
            self.show_message(str(e))
            done = None
        else:
            self.push_undo(self.lib.undo_what() or f"name {name}", lambda: self.lib.undo_last() and None)
        if done is not None:
            name = done.name
        self.show_people()
        for i in range(self.people_page.list.count()):
            if self.people_page.list.item(i).data(Qt.ItemDataRole.UserRole) == name:
                self.people_page.list.setCurrentRow(i)
        self.statusBar().showMessage(f"{name}: search for them by name.", 8000)

    def _person_answered(self, ref: str, photo_ids: list[int], yes: bool) -> None:
        """Yes or no for the person's faces (confirmed or suggested) in these photos."""
        person = self._person(ref)
        if person is None or person.name is None:
            return
        where = self.lib.part_photos(person.faces + person.suggested)
        faces = [f for f, pid in where.items() if pid in set(photo_ids)]
        if faces:
            name = person.name
            self._curate(lambda: self.lib.confirm_faces(name, faces) if yes else self.lib.reject_faces(name, faces))
        self.show_people()
        self._person_chosen(ref)

