"""Grouping face descriptors by person: Chinese whispers (dlib's) or DBSCAN (scikit-learn), Euclidean
distance, at dlib's published same-person threshold by default. Pure functions on matrices."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

CHUNK = 2048  # rows per block of a distance matrix


def groups(matrix: np.ndarray, distance: float, method: str = "chinese-whispers",
           min_size: int = 1) -> list[np.ndarray]:
    """Row indices of each group of at least ``min_size`` rows, largest first (ties: lowest row first)."""
    n = len(matrix)
    if n == 0:
        return []
    m = np.ascontiguousarray(matrix, np.float32)
    if method == "dbscan":
        from sklearn.cluster import DBSCAN

        labels = DBSCAN(eps=distance, min_samples=max(1, min_size), metric="euclidean").fit_predict(m)
    else:
        labels = _chinese_whispers(m, distance)
    out = [np.flatnonzero(labels == g) for g in np.unique(labels) if g >= 0]
    out = [g for g in out if len(g) >= min_size]
    out.sort(key=lambda g: (-len(g), int(g[0])))
    return out


def _chinese_whispers(m: np.ndarray, distance: float) -> np.ndarray:
    try:
        import dlib
    except ImportError:  # faces need dlib anyway; this keeps grouping testable without it
        return _components(m, distance)
    return np.asarray(dlib.chinese_whispers_clustering([dlib.vector(row.tolist()) for row in m], distance), np.int64)


def _components(m: np.ndarray, distance: float) -> np.ndarray:
    """Connected components of the "closer than ``distance``" graph (the fallback without dlib)."""
    from scipy.sparse import coo_matrix
    from scipy.sparse.csgraph import connected_components

    rows, cols = [], []
    for i0, block in blocks(m, m):
        r, c = np.nonzero(block < distance)
        rows.append(r + i0)
        cols.append(c)
    r, c = np.concatenate(rows), np.concatenate(cols)
    graph = coo_matrix((np.ones(len(r), np.int8), (r, c)), shape=(len(m), len(m)))
    return connected_components(graph, directed=False)[1].astype(np.int64)


def blocks(a: np.ndarray, b: np.ndarray) -> Iterator[tuple[int, np.ndarray]]:
    """Euclidean distances from the rows of ``a`` to the rows of ``b``, a block of ``a``'s rows at a time."""
    bb = (b * b).sum(1)
    for i in range(0, len(a), CHUNK):
        x = a[i:i + CHUNK]
        d2 = (x * x).sum(1)[:, None] + bb[None, :] - 2.0 * (x @ b.T)
        yield i, np.sqrt(np.maximum(d2, 0.0))


def nearest(a: np.ndarray, b: np.ndarray, allowed: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
    """For each row of ``a``: the nearest row of ``b`` and its distance. ``allowed`` (len(a) x len(b), bool)
    leaves pairs out (a face rejected for a person is never matched to that person again)."""
    idx = np.full(len(a), -1, np.int64)
    dist = np.full(len(a), np.inf, np.float32)
    if len(a) == 0 or len(b) == 0:
        return idx, dist
    for i0, block in blocks(a, b):
        if allowed is not None:
            block = np.where(allowed[i0:i0 + len(block)], block, np.inf)
        j = block.argmin(1)
        idx[i0:i0 + len(block)] = j
        dist[i0:i0 + len(block)] = block[np.arange(len(block)), j]
    return idx, dist
