"""From raw similarities to ranked photos: calibrate per modality, weigh per part type, threshold,
take each photo's best part, blend keyword matches, keep the top k. All in arrays."""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass, field

import numpy as np

from organizer.parts import PART_TYPES
from organizer.search.index import MODALITIES, VectorIndex


@dataclass(slots=True)
class RankedPart:
    row: int
    part_id: int
    type: str
    score: float
    raw: float  # the uncalibrated cosine similarity


@dataclass(slots=True)
class RankedPhoto:
    photo_id: int
    score: float
    vector_score: float
    keyword_score: float
    parts: list[RankedPart] = field(default_factory=list)


def row_scores(index: VectorIndex, raw: np.ndarray, query_modality: str, weights: Mapping[str, float],
               calibration: Mapping[str, tuple[float, float]], rows: np.ndarray | None = None) -> np.ndarray:
    """Calibrated, weighted score of every row (or of ``rows``, whose similarities ``raw`` holds); rows of a type
    weighted 0 get -inf (left out)."""
    w = np.array([weights.get(t, 1.0) for t in PART_TYPES], np.float32)
    lo = np.zeros(len(MODALITIES), np.float32)
    span = np.ones(len(MODALITIES), np.float32)
    for i, m in enumerate(MODALITIES):
        a, b = calibration.get(f"{query_modality}>{m}", (0.0, 1.0))
        lo[i], span[i] = a, max(b - a, 1e-6)
    types, mods = (index.type_codes, index.mod_codes) if rows is None else (index.type_codes[rows], index.mod_codes[rows])
    row_w = w[types]
    scores = soft_cap((raw - lo[mods]) / span[mods] * row_w)
    scores[row_w == 0] = -np.inf
    return scores.astype(np.float32, copy=False)


KNEE = 0.95
# An approximate (int8) index re-scores this many photos from their exact vectors before the final ranking
REFINE = (4, 50)  # top k times 4, plus 50
Scorer = Callable[[np.ndarray | None], tuple[np.ndarray, np.ndarray]]  # rows (None: all) -> (scores, raw)


def rank_refined(index: VectorIndex, scorer: Scorer, top_k: int, threshold: float,
                 keyword: Mapping[int, float] | None = None, exact: Collection[int] = ()) -> list[RankedPhoto]:
    """:func:`rank` of ``scorer``'s scores; on an approximate index the likely photos (several times top k, by
    the approximate scores) are scored again from their exact vectors first, so the order shown is the exact
    one (benchmarks/search.py measures how often)."""
    scores, raw = scorer(None)
    if not index.approximate or len(scores) == 0:
        return rank(index, scores, raw, top_k, threshold, keyword, exact=exact)
    pool = rank(index, scores, raw, REFINE[0] * top_k + REFINE[1], -np.inf, keyword, parts_per_photo=0, exact=exact)
    rows = index.rows_of(np.array([p.photo_id for p in pool], np.int64))
    if len(rows):
        scores[rows], raw[rows] = scorer(rows)
    return rank(index, scores, raw, top_k, threshold, keyword, exact=exact)


def soft_cap(scores: np.ndarray, knee: float = KNEE) -> np.ndarray:
    """Scores as they are up to ``knee``; above it, bent towards 1 without reaching it, in order (the top of a
    calibrated range, e.g. the same photo searched by example, lands near 0.99; far above it stays ordered in
    float32). A similarity above its calibrated range, or a weight above 1, used to give scores above 1
    beside a 0..1 threshold."""
    room = 1.0 - knee
    over = scores > knee
    out = scores.astype(np.float32, copy=True)
    out[over] = 1.0 - room / (1.0 + (scores[over] - knee) / room) ** 2
    return out


def rank(index: VectorIndex, scores: np.ndarray, raw: np.ndarray, top_k: int, threshold: float,
         keyword: Mapping[int, float] | None = None, parts_per_photo: int = 3,
         exact: Collection[int] = ()) -> list[RankedPhoto]:
    """Group rows by photo (photo score = best part + keyword score), threshold, top k. The ``exact`` photos
    (the query names their file, place, a word on them...) come first, each ordered by its score."""
    if len(scores) == 0 and not keyword:
        return []
    g = index.grouping
    sorted_scores = scores[g.order]
    best = np.maximum.reduceat(sorted_scores, g.starts) if len(g.starts) else np.zeros(0, np.float32)
    kw = np.zeros(len(g.photos), np.float32)
    if keyword:
        pos = np.searchsorted(g.photos, np.fromiter(keyword.keys(), np.int64))
        vals = np.fromiter(keyword.values(), np.float32)
        ok = (pos < len(g.photos)) & (g.photos[np.minimum(pos, len(g.photos) - 1)] == np.fromiter(keyword.keys(), np.int64))
        kw[pos[ok]] = vals[ok]
    base = np.where(np.isfinite(best), best, np.where(kw > 0, 0.0, -np.inf))
    # a keyword match closes part of the gap to 1 (1 - (1 - score)(1 - keyword)): a score stays within the
    # 0..1 of the threshold, and a photo matching both ranks above one matching either
    b = np.maximum(base, 0.0)
    total = np.where(kw > 0, b + kw * (1.0 - np.minimum(b, 1.0)), base).astype(np.float32)
    candidates = np.flatnonzero(np.isfinite(total) & (total >= threshold))
    first = np.zeros(len(g.photos), np.float32)  # the exact tier: ahead of every other photo
    if len(exact):
        first[np.isin(g.photos, np.fromiter(exact, np.int64, len(exact)))] = 1.0
    order_key = total + 2.0 * first  # scores stay below 1: the tier decides first, the score within it
    if len(candidates) > top_k:
        part = np.argpartition(-order_key[candidates], top_k - 1)[:top_k]
        candidates = candidates[part]
    candidates = candidates[np.lexsort((g.photos[candidates], -order_key[candidates]))]
    ends = np.r_[g.starts[1:], len(g.order)]
    out = []
    for gi in candidates:
        rows = g.order[g.starts[gi] : ends[gi]]
        rs = scores[rows]
        ordered = rows[np.argsort(-rs, kind="stable")][:parts_per_photo]
        keep = [r for r in ordered if np.isfinite(scores[r]) and scores[r] >= min(threshold, best[gi])]
        out.append(RankedPhoto(
            int(g.photos[gi]), float(total[gi]), float(best[gi]) if np.isfinite(best[gi]) else float("-inf"),
            float(kw[gi]),
            [RankedPart(int(r), int(index.part_ids[r]), PART_TYPES[index.type_codes[r]], float(scores[r]),
                        float(raw[r])) for r in keep]))
    return out
