"""Label photos with landmarks: the head's top 5, GPS-checked, the top one shown above a threshold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from organizer.landmarks.head import NONE_KEY, LandmarkHead

Label = tuple[int, str | None, float | None, list[tuple[str, str, float, float | None]]]


def label_photos(head: LandmarkHead, vectors: np.ndarray, photo_ids: Sequence[int],
                 gps: Mapping[int, tuple[float, float]], threshold: float, max_km: float, top_k: int = 5) -> list[Label]:
    """For each photo: (photo_id, shown landmark or None, its probability, top-k [(key, name, p, km)]).

    With GPS, landmarks farther than ``max_km`` from where the photo was taken get probability 0 and
    the rest are renormalised, so a near landmark gains what the far ones lose.
    """
    logits = head.logits(vectors).astype(np.float64)
    keys = [c.key for c in head.classes]
    is_mark = np.array([k != NONE_KEY for k in keys])
    lat = np.array([np.nan if c.latitude is None else c.latitude for c in head.classes], np.float64)
    lon = np.array([np.nan if c.longitude is None else c.longitude for c in head.classes], np.float64)
    dist = np.full(logits.shape, np.nan)
    with_gps = [i for i, pid in enumerate(photo_ids) if pid in gps]
    if with_gps:
        here = np.array([gps[photo_ids[i]] for i in with_gps], np.float64)
        d = _haversine(here[:, :1], here[:, 1:], lat[None, :], lon[None, :])
        dist[with_gps] = d
        far = np.nan_to_num(d, nan=0.0) > max_km  # landmarks without coordinates are never rejected
        sub = logits[with_gps]
        sub[far] = -np.inf  # the softmax then shares their probability among the rest
        logits[with_gps] = sub
    top_logit = logits.max(1, keepdims=True)
    e = np.exp(logits - np.where(np.isfinite(top_logit), top_logit, 0.0))
    probs = e / np.maximum(e.sum(1, keepdims=True), 1e-300)
    masked = np.where(is_mark[None, :], probs, -1.0)
    k = min(top_k, int(is_mark.sum()))
    out: list[Label] = []
    for i, pid in enumerate(photo_ids):
        order = np.argsort(-masked[i])[:k]
        top = [(keys[j], head.classes[j].name, float(probs[i, j]),
                None if np.isnan(dist[i, j]) else float(dist[i, j])) for j in order if probs[i, j] > 0]
        shown = top[0] if top and top[0][2] >= threshold else None
        out.append((int(pid), shown[1] if shown else None, shown[2] if shown else None, top))
    return out


def _haversine(lat1: np.ndarray, lon1: np.ndarray, lat2: np.ndarray, lon2: np.ndarray) -> np.ndarray:
    p1, p2 = np.radians(lat1), np.radians(lat2)
    dp, dl = p2 - p1, np.radians(lon2 - lon1)
    a = np.sin(dp / 2) ** 2 + np.cos(p1) * np.cos(p2) * np.sin(dl / 2) ** 2
    return 6371.0088 * 2 * np.arcsin(np.minimum(1.0, np.sqrt(a)))
