"""All vectors of one embedding space in memory, kept in step with the store, searched with one scan.

On the CPU a small index is a numpy float32 matrix (exact scores, milliseconds). From ``INT8_FROM`` rows it is
int8 with one scale a row (512 bytes a 512-d vector instead of 2,048), scanned by numkong's SIMD int8 dot
products in blocks on every core: a million photos (about 5M vectors with their parts) fit in 2.6 GB and a
query scans them all in about 0.1 s (benchmarks/search.py: timings, memory and recall against float32). On a
GPU the matrix is a torch fp16 tensor."""

from __future__ import annotations

import os
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import cache
from typing import Any

import numpy as np

from organizer.parts import PART_TYPES, Modality
from organizer.store.db import Store

MODALITIES = (Modality.IMAGE.value, Modality.TEXT.value)
# From this many rows the CPU index stores int8 (in float32 it would take 400 MB here and 10 GB at 5M rows).
INT8_FROM = 200_000
BLOCK = 131_072  # rows of one int8 block: the unit of work of the scan's threads
LOAD_BATCH = 50_000  # rows read from the store at a time, so a large index loads without a float copy of it all
DTYPES = ("auto", "fp32", "int8", "bf16", "fp16")
_TYPE_CODE = {t: i for i, t in enumerate(PART_TYPES)}
_MOD_CODE = {m: i for i, m in enumerate(MODALITIES)}


@dataclass(slots=True)
class Grouping:
    """Rows sorted by photo, for an exact per-photo maximum with one ``reduceat``."""

    order: np.ndarray  # row indices sorted by photo id
    starts: np.ndarray  # where each photo's run begins in ``order``
    photos: np.ndarray  # the photo id of each run


def quantise(vectors: np.ndarray, step: int = 16_384) -> tuple[np.ndarray, np.ndarray]:
    """Rows as int8 and the float32 scale of each (symmetric: the largest magnitude maps to 127); ``step`` rows
    at a time, so no float32 copy of the whole input is made."""
    out = np.empty(vectors.shape, np.int8)
    scale = np.empty(len(vectors), np.float32)
    for i in range(0, len(vectors), step):
        v = np.array(vectors[i : i + step], np.float32)  # a copy: rounded in place below
        s = np.abs(v).max(axis=1) / 127.0
        s[s == 0] = 1.0
        np.rint(v / s[:, None], out=v)
        out[i : i + step] = v
        scale[i : i + step] = s
    return out, scale


@cache
def _pool() -> ThreadPoolExecutor:
    return ThreadPoolExecutor(max(1, min(8, os.cpu_count() or 1)), thread_name_prefix="organizer-scan")


def _dots(query: np.ndarray, block: np.ndarray) -> np.ndarray:
    """int8 dot products of one query row with every row of ``block``, as float32 (exact: int32 sums)."""
    try:
        import numkong
    except ImportError:  # a platform without its wheel: numpy, correct but several times slower
        return block.astype(np.float32) @ query[0].astype(np.float32)
    return np.asarray(numkong.cdist(query, block, metric="dot", out_dtype="float32"), np.float32)[0]


class _Int8Rows:
    """Blocks of int8 rows with their scales; appended to without copying what is there (a large index is
    never held twice)."""

    def __init__(self) -> None:
        self.blocks: list[np.ndarray] = []
        self.scales: list[np.ndarray] = []

    def append(self, vectors: np.ndarray) -> None:
        for i in range(0, len(vectors), BLOCK):
            q, s = quantise(vectors[i : i + BLOCK])
            if self.blocks and len(self.blocks[-1]) + len(q) <= BLOCK:  # top up a short last block
                q, s = np.concatenate([self.blocks.pop(), q]), np.concatenate([self.scales.pop(), s])
            self.blocks.append(q)
            self.scales.append(s)

    def similarities(self, query: np.ndarray) -> np.ndarray:
        if not self.blocks:
            return np.zeros(0, np.float32)
        q, qs = quantise(np.asarray(query, np.float32)[None, :])
        parts = list(_pool().map(lambda b: _dots(q, b), self.blocks)) if len(self.blocks) > 1 else [
            _dots(q, self.blocks[0])]
        return np.concatenate(parts) * np.concatenate(self.scales) * qs[0]

    @property
    def nbytes(self) -> int:
        return sum(b.nbytes for b in self.blocks) + sum(s.nbytes for s in self.scales)


class VectorIndex:
    """Rows are stored parts. ``dtype``: "auto" (CPU: float32, int8 from ``INT8_FROM`` rows; GPU: fp16),
    "fp32" or "int8" (numpy/numkong), "bf16" or "fp16" (a torch tensor; float32 where torch is not installed)."""

    def __init__(self, store: Store, model_key: str, dtype: str = "auto", device: str = "cpu") -> None:
        if dtype not in DTYPES:
            raise ValueError(f"dtype must be one of {', '.join(DTYPES)}, not {dtype!r}")
        self.store = store
        self.model_key = model_key
        self.device = device
        self._dtype_name = dtype
        self._generation = -1
        self._last_id = 0
        self.part_ids = np.zeros(0, np.int64)
        self.photo_ids = np.zeros(0, np.int64)
        self.type_codes = np.zeros(0, np.int8)
        self.mod_codes = np.zeros(0, np.int8)
        self._rows: np.ndarray | _Int8Rows | Any = None  # float32 array, int8 blocks or torch tensor
        self._large = False  # known to reach INT8_FROM rows before its first is added
        self._grouping: Grouping | None = None
        # held by whoever syncs or reads the arrays: two threads never append the same rows
        self.lock = threading.RLock()

    def __len__(self) -> int:
        return len(self.part_ids)

    def _torch(self) -> bool:
        from organizer.models.ort import torch_version

        if torch_version() == "none":  # the light install: numpy, whatever was asked
            return False
        return self.device != "cpu" or self._dtype_name in ("bf16", "fp16")

    @property
    def dtype_name(self) -> str:
        if isinstance(self._rows, _Int8Rows):
            return "int8 (numkong)"
        if self._rows is None or isinstance(self._rows, np.ndarray):
            return "fp32 (numpy)"
        return str(self._rows.dtype).replace("torch.", "")

    def sync(self) -> int:
        """Load what was added since the last call (everything, if something was removed); returns rows added."""
        with self.lock:
            return self._sync()

    def _sync(self) -> int:
        gen = self.store.generation()
        if gen != self._generation:
            self._reset()
            self._generation = gen
        added = 0
        if self._rows is None and self._dtype_name == "auto":  # a large library is int8 from its first row
            self._large = self.store.vector_count(self.model_key) >= INT8_FROM
        for rows in self._batches():
            self._append(rows.part_ids, rows.photo_ids, rows.types, rows.modalities, rows.matrix)
            self._last_id = int(rows.embedding_ids[-1])
            added += len(rows.embedding_ids)
        return added

    def _batches(self) -> Iterator[Any]:
        while True:
            rows = self.store.vectors(self.model_key, after_id=self._last_id, limit=LOAD_BATCH)
            if len(rows.embedding_ids) == 0:
                return
            yield rows
            if len(rows.embedding_ids) < LOAD_BATCH:
                return

    def add_arrays(self, part_ids: np.ndarray, photo_ids: np.ndarray, types: list[str], modalities: list[str],
                   matrix: np.ndarray) -> None:
        """Add rows directly (benchmarks and tests of the ranking layer)."""
        self._append(part_ids, photo_ids, types, modalities, matrix)

    def _append(self, part_ids: np.ndarray, photo_ids: np.ndarray, types: list[str], modalities: list[str],
                matrix: np.ndarray) -> None:
        self.part_ids = np.concatenate([self.part_ids, np.asarray(part_ids, np.int64)])
        self.photo_ids = np.concatenate([self.photo_ids, np.asarray(photo_ids, np.int64)])
        self.type_codes = np.concatenate([self.type_codes, np.array([_TYPE_CODE[t] for t in types], np.int8)])
        self.mod_codes = np.concatenate([self.mod_codes, np.array([_MOD_CODE[m] for m in modalities], np.int8)])
        self._grouping = None
        self._add_vectors(np.asarray(matrix))

    def _add_vectors(self, matrix: np.ndarray) -> None:
        if self._torch():
            import torch

            dtype = torch.float16 if self.device != "cpu" or self._dtype_name == "fp16" else torch.bfloat16
            new = torch.from_numpy(np.ascontiguousarray(matrix, np.float32)).to(self.device).to(dtype)
            old: Any = self._rows
            self._rows = new if old is None else torch.cat([old, new])
            return
        if isinstance(self._rows, _Int8Rows):
            self._rows.append(matrix)
            return
        rows = np.asarray(matrix, np.float32) if self._rows is None else np.concatenate(
            [self._rows, np.asarray(matrix, np.float32)])
        if self._dtype_name == "int8" or self._dtype_name == "auto" and (self._large or len(rows) >= INT8_FROM):
            self._rows = _Int8Rows()
            self._rows.append(rows)
        else:
            self._rows = rows

    def _reset(self) -> None:
        self._last_id = 0
        self.part_ids = np.zeros(0, np.int64)
        self.photo_ids = np.zeros(0, np.int64)
        self.type_codes = np.zeros(0, np.int8)
        self.mod_codes = np.zeros(0, np.int8)
        self._rows = None
        self._large = False
        self._grouping = None

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of the (unit) query with every row, as float32: one scan."""
        if self._rows is None or len(self) == 0:
            return np.zeros(0, np.float32)
        if isinstance(self._rows, _Int8Rows):
            return self._rows.similarities(query)
        if isinstance(self._rows, np.ndarray):
            return np.asarray(self._rows @ np.asarray(query, np.float32), np.float32)
        import torch

        m = self._rows
        q = torch.from_numpy(np.asarray(query, np.float32)).to(self.device).to(m.dtype)
        with torch.inference_mode():
            return (m @ q).float().cpu().numpy()

    @property
    def approximate(self) -> bool:
        """Whether similarities are approximate (int8) and exact ones can be had for a few rows."""
        return isinstance(self._rows, _Int8Rows) and self.store is not None

    def exact_similarities(self, query: np.ndarray, rows: np.ndarray) -> np.ndarray:
        """Similarities of ``rows`` from their stored float16 vectors (exact as a float32 index's)."""
        if not self.approximate:
            return self.similarities(query)[rows]
        vectors = self.store.vectors_of_parts(self.model_key, self.part_ids[rows])
        return np.asarray(vectors.astype(np.float32) @ np.asarray(query, np.float32), np.float32)

    def rows_of(self, photo_ids: np.ndarray) -> np.ndarray:
        """The rows of these photos."""
        g = self.grouping
        at = np.searchsorted(g.photos, photo_ids)
        at = at[(at < len(g.photos)) & (g.photos[np.minimum(at, len(g.photos) - 1)] == photo_ids)]
        ends = np.r_[g.starts[1:], len(g.order)]
        return np.concatenate([g.order[g.starts[i] : ends[i]] for i in at]) if len(at) else np.zeros(0, np.int64)

    @property
    def grouping(self) -> Grouping:
        if self._grouping is None:
            order = np.argsort(self.photo_ids, kind="stable")
            sorted_ids = self.photo_ids[order]
            starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]]) if len(order) else np.zeros(0, int)
            self._grouping = Grouping(order, starts, sorted_ids[starts] if len(order) else np.zeros(0, np.int64))
        return self._grouping

    def nbytes(self) -> int:
        """The vectors' bytes and the per-row arrays' (the grouping's excepted)."""
        rows = self._rows
        if rows is None:
            size = 0
        elif isinstance(rows, (_Int8Rows, np.ndarray)):
            size = rows.nbytes
        else:
            size = rows.element_size() * rows.nelement()
        return int(size) + sum(a.nbytes for a in (self.part_ids, self.photo_ids, self.type_codes, self.mod_codes))
