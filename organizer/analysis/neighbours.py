"""The exact radius-neighbours graph of unit vectors under cosine distance, without an n x n matrix.

Two unit vectors are within cosine distance ``eps`` when their Euclidean distance is at most
``r = sqrt(2 * eps)``. Projecting onto orthonormal directions never lengthens a difference, so a
pair whose projections onto the top principal components are farther apart than ``r`` cannot be
neighbours. Rows are visited in blocks grouped by a coarse k-means cell; each block is compared
with every row in the 64-d projection (bf16 with torch, float32 without: cheap), and only the columns that survive are
checked exactly, in float32 and in full dimension. The result is the graph a brute-force search
gives; on clustered data few columns survive, which is where the time goes down.
"""

from __future__ import annotations

from collections.abc import Generator
from dataclasses import dataclass

import numpy as np

SMALL = 15_000


@dataclass(slots=True)
class RadiusGraph:
    graph: object  # scipy.sparse.csr_matrix of cosine distances (>= 1e-9 so zeros count), diagonal included
    order: np.ndarray  # row i of ``graph`` is row order[i] of the input


def radius_graph(x: np.ndarray, eps: float, block: int = 2048, dims: int = 64) -> Generator[int, None, RadiusGraph]:
    """Yields the rows done so far; returns the graph. With torch, the projection is compared in bf16;
    without it (the light install), in numpy float32: the same graph."""
    from organizer.models.ort import torch_version

    if torch_version() == "none":
        return (yield from _radius_graph_numpy(x, eps, block, dims))
    import torch
    from scipy.sparse import csr_matrix

    n = len(x)
    full = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float32))
    full = full / full.norm(dim=1, keepdim=True).clamp_min(1e-12)
    g = torch.Generator().manual_seed(0)
    sample = full[torch.randperm(n, generator=g)[: min(n, 20_000)]]
    _, _, vh = torch.linalg.svd(sample - sample.mean(0), full_matrices=False)
    z = full @ vh[: min(dims, full.shape[1])].T
    order = torch.argsort(_cells(z, max(1, n // 512), g), stable=True)
    full, z = full[order], z[order]
    # |zi - zj|^2 <= r^2 + slack  <=>  zi.zj - |zj|^2/2 >= (|zi|^2 - r^2 - slack)/2 ; the slack covers bf16 rounding
    half_sq = ((z * z).sum(1) / 2).to(torch.bfloat16)
    row_bound = ((z * z).sum(1) - 2.0 * eps - 0.02) / 2
    low = z.to(torch.bfloat16)
    indptr = [0]
    indices: list[np.ndarray] = []
    data: list[np.ndarray] = []
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        cand = (low[lo:hi] @ low.T).sub_(half_sq) >= row_bound[lo:hi, None].to(torch.bfloat16)
        cols = torch.nonzero(cand.any(0)).flatten()
        sims = full[lo:hi] @ full[cols].T  # exact, only where a neighbour can be
        rows_i, cols_j = torch.nonzero((sims >= 1.0 - eps) & cand[:, cols], as_tuple=True)
        per_row = torch.bincount(rows_i, minlength=hi - lo)
        indptr.extend((indptr[-1] + torch.cumsum(per_row, 0)).tolist())
        indices.append(cols[cols_j].numpy().astype(np.int32))  # row-major nonzero: columns ascend per row
        data.append((1.0 - sims[rows_i, cols_j]).clamp_min(1e-9).numpy())
        yield hi
    graph = csr_matrix((np.concatenate(data) if data else np.zeros(0, np.float32),
                        np.concatenate(indices) if indices else np.zeros(0, np.int32),
                        np.asarray(indptr, np.int64)), shape=(n, n))
    return RadiusGraph(graph, order.numpy())


def _radius_graph_numpy(x: np.ndarray, eps: float, block: int, dims: int) -> Generator[int, None, RadiusGraph]:
    """:func:`radius_graph` in numpy float32 (no torch): the same bound, the same exact check."""
    from scipy.sparse import csr_matrix

    n = len(x)
    full = np.ascontiguousarray(x, dtype=np.float32)
    full = full / np.maximum(np.linalg.norm(full, axis=1, keepdims=True), 1e-12)
    rng = np.random.default_rng(0)
    sample = full[rng.permutation(n)[: min(n, 20_000)]]
    _, _, vh = np.linalg.svd(sample - sample.mean(0), full_matrices=False)
    z = np.ascontiguousarray(full @ vh[: min(dims, full.shape[1])].T)
    order = np.argsort(_cells_numpy(z, max(1, n // 512), rng), kind="stable")
    full, z = full[order], z[order]
    sq = (z * z).sum(1)
    half_sq = sq / 2
    row_bound = (sq - 2.0 * eps - 0.02) / 2  # the slack as in the bf16 path (here it covers float32 rounding)
    indptr = [0]
    indices: list[np.ndarray] = []
    data: list[np.ndarray] = []
    for lo in range(0, n, block):
        hi = min(n, lo + block)
        cand = (z[lo:hi] @ z.T) - half_sq >= row_bound[lo:hi, None]
        cols = np.flatnonzero(cand.any(0))
        sims = full[lo:hi] @ full[cols].T  # exact, only where a neighbour can be
        rows_i, cols_j = np.nonzero((sims >= 1.0 - eps) & cand[:, cols])
        per_row = np.bincount(rows_i, minlength=hi - lo)
        indptr.extend((indptr[-1] + np.cumsum(per_row)).tolist())
        indices.append(cols[cols_j].astype(np.int32))  # row-major nonzero: columns ascend per row
        data.append(np.maximum(1.0 - sims[rows_i, cols_j], 1e-9).astype(np.float32))
        yield hi
    graph = csr_matrix((np.concatenate(data) if data else np.zeros(0, np.float32),
                        np.concatenate(indices) if indices else np.zeros(0, np.int32),
                        np.asarray(indptr, np.int64)), shape=(n, n))
    return RadiusGraph(graph, order)


def _cells_numpy(z: np.ndarray, cells: int, rng: np.random.Generator, iters: int = 6) -> np.ndarray:
    """A coarse k-means over the projection: cell ids that put neighbours in the same blocks."""
    n = len(z)
    if cells <= 1:
        return np.zeros(n, np.int64)
    centres = z[rng.permutation(n)[:cells]].copy()
    assign = np.zeros(n, np.int64)
    zsq = (z * z).sum(1, keepdims=True)
    for _ in range(iters):
        assign = (zsq - 2 * z @ centres.T + (centres * centres).sum(1)).argmin(1)
        counts = np.bincount(assign, minlength=cells)
        sums = np.zeros_like(centres)
        np.add.at(sums, assign, z)
        centres = np.where(counts[:, None] > 0, sums / np.maximum(counts, 1)[:, None], centres)
    return assign


def _cells(z, cells: int, g, iters: int = 6):  # -> torch.LongTensor of cell ids
    import torch

    n = len(z)
    if cells <= 1:
        return torch.zeros(n, dtype=torch.long)
    centres = z[torch.randperm(n, generator=g)[:cells]].clone()
    assign = torch.zeros(n, dtype=torch.long)
    for _ in range(iters):
        assign = torch.cdist(z, centres).argmin(1)
        sums = torch.zeros_like(centres).index_add_(0, assign, z)
        counts = torch.bincount(assign, minlength=cells).unsqueeze(1)
        centres = torch.where(counts > 0, sums / counts.clamp_min(1), centres)
    return assign


def dbscan(x: np.ndarray, eps: float, min_samples: int) -> Generator[int, None, np.ndarray]:
    """DBSCAN labels (-1: noise) under cosine distance, from the exact radius graph; yields rows done."""
    from sklearn.cluster import DBSCAN

    if len(x) == 0:
        return np.zeros(0, np.int64)
    if len(x) <= SMALL:  # scikit-learn's own search is faster here (measured: 1.2 s against 2.3 s at 10k)
        unit = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
        labels = DBSCAN(eps=float(np.sqrt(2.0 * eps)), min_samples=min_samples).fit_predict(unit)
        yield len(x)
        return labels
    rg = yield from radius_graph(x, eps)
    labels = DBSCAN(eps=eps, min_samples=min_samples, metric="precomputed").fit_predict(rg.graph)
    out = np.empty(len(x), np.int64)
    out[rg.order] = labels
    return out
