"""Search the library by text or by an example photo."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

import numpy as np

from organizer.errors import BadArgumentError
from organizer.media.decode import SkipError, load
from organizer.models.clip import ClipModel
from organizer.parts import PART_TYPES, Box, Modality
from organizer.search.index import VectorIndex
from organizer.search.keywords import query_tokens
from organizer.search.ranking import RankedPhoto, rank_refined, row_scores
from organizer.settings import Settings
from organizer.store.db import Store
from organizer.store.records import PhotoRecord

if TYPE_CHECKING:
    from organizer.people.people import People

SCHEMA = "organizer.search/1"


@dataclass(slots=True)
class PartMatch:
    part_id: int
    type: str
    box: Box
    score: float
    similarity: float
    label: str | None = None
    text: str | None = None
    at_seconds: float | None = None  # a video's frame: where in the clip


@dataclass(slots=True)
class PhotoMatch:
    photo_id: int
    score: float
    path: str
    paths: list[str]
    keyword_score: float
    parts: list[PartMatch] = field(default_factory=list)
    info: PhotoRecord | None = None  # the photo's metadata; its hash names the cached thumbnail

    @property
    def hash(self) -> str:
        return self.info.hash if self.info is not None else ""

    @property
    def missing(self) -> bool:
        """Whether none of its files is there: not found at the last scan, or not there now (its folder is
        offline: an unplugged drive, a moved folder), checked when asked."""
        return bool(self.info and self.info.missing) or not any(os.path.exists(p) for p in self.paths or [self.path])


@dataclass(slots=True)
class SearchQuery:
    text: str | None = None
    image: str | None = None
    weights: dict[str, float] = field(default_factory=dict)
    threshold: float | None = None
    top_k: int | None = None
    landmark: str | None = None  # only photos labelled with this landmark
    persons: list[str] = field(default_factory=list)  # only photos showing every one of these people


class Searcher:
    """Keeps the vector index in memory between queries and in step with the store."""

    def __init__(self, store: Store, clip: ClipModel, settings: Settings, people: People | None = None) -> None:
        self.store = store
        self.clip = clip
        self.settings = settings
        self.people = people  # People, for --person and names of people in a query
        self.index = VectorIndex(store, clip.key)

    def search(self, q: SearchQuery) -> list[PhotoMatch]:
        # one search at a time per index: the window's search threads and label suggestions share it
        with self.index.lock:
            return self._search(q)

    def _search(self, q: SearchQuery) -> list[PhotoMatch]:
        if q.text and q.image or not (q.text or q.image or q.landmark or q.persons):
            raise BadArgumentError("Give either a text query or --image FILE, not both and not neither.")
        persons, text = list(q.persons), q.text
        if text and self.people is not None:  # "Grandma at the beach": Grandma's photos, ranked by the rest
            named, rest = self.people.named_in(text)
            if named:
                persons += named
                text = rest if query_tokens(rest) else None
        if persons:
            if self.people is None:
                raise BadArgumentError("People are not available in this library")
            shows = self.people.photos_of(persons)
            q = replace(q, text=text, persons=[])
            if not (q.text or q.image or q.landmark):  # only people: their photos, by date taken
                rows = self.store.photo_list("date", photo_ids=sorted(shows))[:q.top_k or self.settings.search.top_k]
                return self._describe([RankedPhoto(r.id, 1.0, 1.0, 0.0) for r in rows])
            return self._search_within(q, dict.fromkeys(shows, 1.0))
        return self._search_within(q, None)

    def _search_within(self, q: SearchQuery, only: dict[int, float] | None) -> list[PhotoMatch]:
        """Rank for ``q`` among the photos ``only`` holds (None: all); a landmark narrows them further."""
        s = self.settings.search
        weights = {**s.weights, **q.weights}
        unknown = sorted(set(weights) - set(PART_TYPES))
        if unknown:
            raise BadArgumentError(f"Unknown part types in weights: {', '.join(unknown)}. Known: {', '.join(PART_TYPES)}")
        top_k = q.top_k or s.top_k
        if top_k < 1:
            raise BadArgumentError("--top must be at least 1")
        threshold = s.threshold if q.threshold is None else q.threshold
        if q.landmark:
            marked = self.store.photos_with_landmark(q.landmark)
            only = marked if only is None else {pid: p for pid, p in marked.items() if pid in only}
            if not (q.text or q.image):  # the landmark alone: its photos, most confident first
                best = sorted(only.items(), key=lambda kv: (-kv[1], kv[0]))[:top_k]
                return self._describe([RankedPhoto(pid, p, p, 0.0) for pid, p in best])
        self.index.sync()
        concept, rest = self._concept(q.text) if q.text else (None, None)
        # each query is (vector, its modality, its share of the score)
        if concept is not None:
            # a query that names a label: similarity to the label's concept, blended with CLIP's score
            # for the rest of the words ("Grandma at the beach")
            queries = [(concept, Modality.IMAGE.value, 1.0)]
            if rest:
                queries = [(concept, Modality.IMAGE.value, s.label_blend),
                           (self.clip.embed_texts([rest])[0], Modality.TEXT.value, 1 - s.label_blend)]
            keyword = self._keyword_scores(query_tokens(rest or ""))
            exact = self.store.exact_hits(query_tokens(rest)) if rest else set()
        elif q.text:
            queries = [(self.clip.embed_texts([q.text])[0], Modality.TEXT.value, 1.0)]
            tokens = query_tokens(q.text)
            keyword = self._keyword_scores(tokens)
            exact = self.store.exact_hits(tokens) if tokens else set()
        else:
            queries = [(self.embed_image_file(q.image or ""), Modality.IMAGE.value, 1.0)]
            keyword, exact = {}, set()
        allowed = None if only is None else np.fromiter(only, np.int64, len(only))

        def scorer(rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
            scores, raw = self._scores(queries, weights, rows)
            if allowed is not None:
                scores[~np.isin(self.index.photo_ids if rows is None else self.index.photo_ids[rows], allowed)] = -np.inf
            return scores, raw

        if only is not None:
            keyword = {pid: v for pid, v in keyword.items() if pid in only}
            exact &= set(only)
        ranked = rank_refined(self.index, scorer, top_k, threshold, keyword, exact=exact)
        return self._describe(ranked)

    def _scores(self, queries: list[tuple[np.ndarray, str, float]], weights: Mapping[str, float],
                rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
        """Every row's score (``rows``: only those, from their exact vectors) and the first query's similarity."""
        cal = self.settings.search.calibration
        scores, first = None, None
        for vec, modality, share in queries:
            raw = self.index.similarities(vec) if rows is None else self.index.exact_similarities(vec, rows)
            part = share * row_scores(self.index, raw, modality, weights, cal, rows=rows)
            scores, first = (part, raw) if scores is None else (scores + part, first)
        assert scores is not None and first is not None
        return scores, first

    def _concept(self, text: str) -> tuple[np.ndarray | None, str | None]:
        """The mean concept of the labels ``text`` names, and the words left once their names are removed."""
        from organizer.store.labels import LabelStore, find_names

        labels = LabelStore(self.store)
        concepts = {n: c for n in find_names(text, labels.names())[0]
                    if (c := labels.concept(n, self.clip.key)) is not None}  # a label with no vectors names nothing
        if not concepts:
            return None, None
        _, rest = find_names(text, list(concepts))
        concept = np.mean(list(concepts.values()), axis=0)
        concept /= max(float(np.linalg.norm(concept)), 1e-12)
        return concept.astype(np.float32), (rest if query_tokens(rest) else None)

    def suggest(self, label: str, top_k: int = 20) -> list[PhotoMatch]:
        """Photos not yet in ``label`` that look most like it (confirm or reject them to teach it)."""
        from organizer.store.labels import LabelStore

        labels = LabelStore(self.store)
        concept = labels.concept(label, self.clip.key)
        if concept is None:
            raise BadArgumentError(f"Label '{label}' has no members with vectors yet")
        pos, neg = labels.members(label)
        taken = {p.photo_id for p in self.store.parts(pos).values()}
        # a rejected photo (its whole part) is not suggested again; a rejected object only as that object
        taken |= {p.photo_id for p in self.store.parts(neg).values() if p.type == "whole"}
        with self.index.lock:
            return self._suggest(concept, taken, pos + neg, top_k)

    def _suggest(self, concept: np.ndarray, taken: set[int], members: list[int], top_k: int) -> list[PhotoMatch]:
        self.index.sync()
        members_a, taken_a = np.array(members, np.int64), np.fromiter(taken, np.int64, len(taken))

        def scorer(rows: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
            scores, raw = self._scores([(concept, Modality.IMAGE.value, 1.0)], {"text": 0.0}, rows)
            at = slice(None) if rows is None else rows
            scores[np.isin(self.index.part_ids[at], members_a) | np.isin(self.index.photo_ids[at], taken_a)] = -np.inf
            return scores, raw

        return self._describe(rank_refined(self.index, scorer, top_k, -np.inf))

    def embed_image_file(self, path: str) -> np.ndarray:
        if not os.path.exists(path):
            raise BadArgumentError(f"Query image not found: {path}")
        if os.path.isdir(path):
            raise BadArgumentError(f"Cannot use {path} as a query: it is a folder, not a photo")
        try:
            image = load(path, self.settings.decode, min_side=self.clip.image_size).image
        except SkipError as e:
            raise BadArgumentError(f"Cannot use {path} as a query: {e}") from e
        return self.clip.embed_images([image], mode="crop")[0]

    def _keyword_scores(self, tokens: list[str]) -> dict[int, float]:
        if not tokens:
            return {}
        hits = self.store.keyword_hits(tokens)
        boost = self.settings.search.keyword_boost
        return {pid: boost * n / len(tokens) for pid, n in hits.items()}

    def _describe(self, ranked: list[RankedPhoto]) -> list[PhotoMatch]:
        photos = self.store.photos([r.photo_id for r in ranked])
        parts = self.store.parts([p.part_id for r in ranked for p in r.parts])
        out = []
        for r in ranked:
            info = photos.get(r.photo_id)
            if info is None:  # removed since the index was loaded
                continue
            matches = []
            for p in r.parts:
                row = parts.get(p.part_id)
                if row is not None:
                    matches.append(PartMatch(p.part_id, row.type, row.box, p.score, p.raw, row.label, row.text,
                                             row.at_seconds))
            paths = info.paths
            out.append(PhotoMatch(r.photo_id, r.score, paths[0] if paths else "", paths, r.keyword_score, matches, info))
        return out


def to_json(q: SearchQuery, results: list[PhotoMatch], model: str, settings: Settings) -> dict[str, Any]:
    """The versioned JSON form of a search (documented in the README)."""
    s = settings.search
    return {
        "schema": SCHEMA,
        "model": model,
        "query": {"text": q.text, "image": q.image, "landmark": q.landmark, "weights": {**s.weights, **q.weights},
                  "threshold": s.threshold if q.threshold is None else q.threshold, "top": q.top_k or s.top_k},
        "results": [
            {
                "rank": i + 1, "photo_id": r.photo_id, "score": round(r.score, 4),
                "keyword_score": round(r.keyword_score, 4), "path": r.path, "paths": r.paths,
                "width": r.info.width if r.info else None, "height": r.info.height if r.info else None,
                "taken_at": r.info.taken_at if r.info else None, "landmark": r.info.landmark if r.info else None,
                "landmark_probability": r.info.landmark_p if r.info else None,
                "missing": r.missing,
                "parts": [{"part_id": p.part_id, "type": p.type, "label": p.label,
                           "box": [round(x, 4) for x in p.box], "score": round(p.score, 4),
                           "similarity": round(p.similarity, 4), "text": p.text, "at_seconds": p.at_seconds}
                          for p in r.parts],
            }
            for i, r in enumerate(results)
        ],
    }


def parse_weights(spec: str | None) -> Mapping[str, float]:
    """'person=2,vehicle=0.5' -> {'person': 2.0, 'vehicle': 0.5}, with clear errors."""
    out: dict[str, float] = {}
    if not spec:
        return out
    for item in spec.split(","):
        item = item.strip()
        if not item:
            continue
        key, sep, value = item.partition("=")
        key = key.strip().lower()
        if not sep:
            raise BadArgumentError(f"Weight '{item}' needs the form TYPE=NUMBER, e.g. person=2")
        if key not in PART_TYPES:
            raise BadArgumentError(f"Unknown part type '{key}' in --weights. Known: {', '.join(PART_TYPES)}")
        try:
            w = float(value)
        except ValueError:
            raise BadArgumentError(f"Weight for '{key}' is not a number: '{value}'") from None
        if w < 0 or not np.isfinite(w):
            raise BadArgumentError(f"Weight for '{key}' must be 0 or more, got {value}")
        out[key] = w
    return out
