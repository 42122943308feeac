"""Search, labels and people, clusters and the map, and the undo journal of what people curate."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from organizer.search.engine import PhotoMatch, Searcher, SearchQuery

if TYPE_CHECKING:  # imported where first used: a status or a search need neither
    from organizer.analysis.clusters import ClusterResult
    from organizer.analysis.projection import ProjectionResult
    from organizer.models.clip import ClipModel
    from organizer.people.people import People
    from organizer.progress import Progress
    from organizer.store.labels import LabelStore

from organizer.library.base import LibraryBase, T

UNDO_KEY = "undo_journal"  # meta key: the newest labels and people actions, with what they changed


UNDO_KEEP = 20


class Curation(LibraryBase):
    @cached_property
    def searcher(self) -> Searcher:
        return Searcher(self.store, self.models.clip, self.settings, people=self.people)

    @cached_property
    def people(self) -> People:
        """Faces grouped by person; named people are labels."""
        from organizer.people.people import People

        return People(self.store, self.labels, self.face_space, self.settings)

    def face_space(self) -> str | None:
        """The face descriptors' vector space of the face weights in use (None without weights). People are
        shown from the faces found with them even while the faces pass is switched off."""
        try:
            return self.models.face.key
        except OSError:
            return None

    def search(self, query: SearchQuery) -> list[PhotoMatch]:
        return self.searcher.search(query)

    def suggest(self, label: str, top_k: int = 20) -> list[PhotoMatch]:
        """Photos not yet in ``label`` that look most like it."""
        return self.searcher.suggest(label, top_k)

    @property
    def clip(self) -> ClipModel:
        """The CLIP model in use (training and fine-tuning take it)."""
        return self.models.clip

    def embedding_space(self) -> str:
        """The key of the vector space searches run in (the JSON output names it)."""
        return self.models.clip.key

    def search_model_loaded(self) -> bool:
        return self.models.clip.is_loaded

    def load_search_model(self) -> None:
        """Load CLIP now (the window's warm-up), so that the first search does not wait for it."""
        self.models.clip.load()

    def faces_off(self) -> str | None:
        """Why faces are not found (switched off, dlib or the weights missing); None when they are."""
        return self.models.faces_off()

    def clusters(self, mode: str = "whole", force: bool = False) -> Iterator[Progress | ClusterResult]:
        """Progress events, then a ClusterResult (reused when the embeddings did not change)."""
        from organizer.analysis.clusters import Clusterer

        return Clusterer(self.store, self.models.clip, self.settings).run(mode, force)

    def project(self, mode: str = "whole", force: bool = False) -> Iterator[Progress | ClusterResult | ProjectionResult]:
        """Progress events, then a ProjectionResult (reused when the embeddings did not change)."""
        from organizer.analysis.projection import Projector

        return Projector(self.store, self.models.clip, self.settings).run(mode, force)

    @cached_property
    def labels(self) -> LabelStore:
        """The user's labels (people are labels too)."""
        from organizer.store.labels import LabelStore

        return LabelStore(self.store)

    def curate(self, what: str, parts: Sequence[int], action: Callable[[], T]) -> T:
        """Run a labels or people ``action`` that may change the memberships of ``parts`` (and make or drop
        labels), undoably: what those parts belonged to is kept in the library (the newest
        :data:`UNDO_KEEP` actions), and :meth:`undo` puts it back, from the window or `organizer undo`."""
        rows, names = self.labels.snapshot(list(parts))
        result = action()
        journal = self._undo_journal()
        journal.append({"what": what, "parts": sorted(set(parts)), "rows": rows, "names": sorted(names)})
        self.store.set_meta(UNDO_KEY, json.dumps(journal[-UNDO_KEEP:]))
        return result

    def undo_last(self) -> str | None:
        """Undo the newest labels or people action; returns what it was (None: nothing to undo)."""
        journal = self._undo_journal()
        if not journal:
            return None
        last = journal.pop()
        self.labels.restore(([(n, int(p), bool(ok)) for n, p, ok in last["rows"]], set(last["names"])),
                            [int(p) for p in last["parts"]])
        self.store.set_meta(UNDO_KEY, json.dumps(journal))
        return str(last["what"])

    def undo_what(self) -> str | None:
        """What :meth:`undo_last` would undo (None: nothing)."""
        journal = self._undo_journal()
        return str(journal[-1]["what"]) if journal else None

    def _undo_journal(self) -> list[dict[str, Any]]:
        try:
            data = json.loads(self.store.get_meta(UNDO_KEY, "[]") or "[]")
        except ValueError:
            return []
        return data if isinstance(data, list) else []

    def cluster_names(self, mode: str = "whole") -> dict[int, str]:
        from organizer.analysis.clusters import Clusterer

        return {c.label: c.name for c in Clusterer(self.store, self.models.clip, self.settings).result(mode, True).clusters}

    def export_projection(self, result: ProjectionResult, target: Path, mode: str = "whole") -> int:
        """Write a projection with cluster names to CSV or JSON; returns the points written."""
        from organizer.analysis.projection import export

        return export(result, target, self.store, self.cluster_names(mode))
