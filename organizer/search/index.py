"""All vectors of one embedding space as one matrix in memory, kept in step with the store."""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np

from organizer.parts import PART_TYPES, Modality
from organizer.store.db import Store

MODALITIES = (Modality.IMAGE.value, Modality.TEXT.value)
# Below this many rows a float32 matrix-vector product in numpy takes milliseconds: a search on the CPU then
# needs no torch at all (a cold `organizer search` does not pay for importing it).
NUMPY_UP_TO = 200_000
_TYPE_CODE = {t: i for i, t in enumerate(PART_TYPES)}
_MOD_CODE = {m: i for i, m in enumerate(MODALITIES)}


@dataclass(slots=True)
class Grouping:
    """Rows sorted by photo, for an exact per-photo maximum with one ``reduceat``."""

    order: np.ndarray  # row indices sorted by photo id
    starts: np.ndarray  # where each photo's run begins in ``order``
    photos: np.ndarray  # the photo id of each run


class VectorIndex:
    """Rows are stored parts. On the CPU the matrix is a numpy float32 array, except for large indexes on
    CPUs that multiply bf16 natively (AVX512-BF16/AMX), where it is a torch bf16 tensor (half the memory);
    on GPUs a torch fp16 tensor."""

    def __init__(self, store: Store, model_key: str, dtype: str = "auto", device: str = "cpu") -> None:
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
        self._chunks: list[np.ndarray] = []
        self._matrix = None  # numpy array or torch tensor, built lazily from chunks
        self._numpy: bool | None = None  # decided when the matrix is first built
        self._grouping: Grouping | None = None
        # held by whoever syncs or reads the arrays: two threads never append the same rows
        self.lock = threading.RLock()

    def __len__(self) -> int:
        return len(self.part_ids)

    def _use_numpy(self, rows: int) -> bool:
        from organizer.models.ort import torch_version

        if torch_version() == "none":  # the light install: numpy fp32, whatever was asked
            return True
        if self.device != "cpu" or self._dtype_name in ("bf16", "fp16"):
            return False
        if self._dtype_name == "fp32":
            return True
        from organizer.models.cpu import native_bf16

        return rows < NUMPY_UP_TO or not native_bf16()

    @property
    def dtype_name(self) -> str:
        _ = self.matrix
        if self._numpy:
            return "fp32 (numpy)"
        return str(self.dtype).replace("torch.", "")

    @property
    def dtype(self):  # torch dtype
        import torch

        if self._dtype_name == "fp32":
            return torch.float32
        if self._dtype_name == "bf16":
            return torch.bfloat16
        if self._dtype_name == "fp16":
            return torch.float16
        from organizer.models.base import bf16_native

        if self.device == "cuda":
            return torch.float16
        return torch.bfloat16 if bf16_native(self.device) else torch.float32

    def sync(self) -> int:
        """Load what was added since the last call (everything, if something was removed); returns rows added."""
        with self.lock:
            return self._sync()

    def _sync(self) -> int:
        gen = self.store.generation()
        if gen != self._generation:
            self._reset()
            self._generation = gen
        rows = self.store.vectors(self.model_key, after_id=self._last_id)
        if len(rows.embedding_ids) == 0:
            return 0
        self._last_id = int(rows.embedding_ids[-1])
        self.part_ids = np.concatenate([self.part_ids, rows.part_ids])
        self.photo_ids = np.concatenate([self.photo_ids, rows.photo_ids])
        self.type_codes = np.concatenate([self.type_codes, np.array([_TYPE_CODE[t] for t in rows.types], np.int8)])
        self.mod_codes = np.concatenate([self.mod_codes, np.array([_MOD_CODE[m] for m in rows.modalities], np.int8)])
        self._chunks.append(rows.matrix)
        self._grouping = None
        return len(rows.embedding_ids)

    def add_arrays(self, part_ids: np.ndarray, photo_ids: np.ndarray, types: list[str], modalities: list[str],
                   matrix: np.ndarray) -> None:
        """Add rows directly (benchmarks and tests of the ranking layer)."""
        self.part_ids = np.concatenate([self.part_ids, part_ids.astype(np.int64)])
        self.photo_ids = np.concatenate([self.photo_ids, photo_ids.astype(np.int64)])
        self.type_codes = np.concatenate([self.type_codes, np.array([_TYPE_CODE[t] for t in types], np.int8)])
        self.mod_codes = np.concatenate([self.mod_codes, np.array([_MOD_CODE[m] for m in modalities], np.int8)])
        self._chunks.append(np.asarray(matrix, np.float16))
        self._grouping = None

    def _reset(self) -> None:
        self._last_id = 0
        self.part_ids = np.zeros(0, np.int64)
        self.photo_ids = np.zeros(0, np.int64)
        self.type_codes = np.zeros(0, np.int8)
        self.mod_codes = np.zeros(0, np.int8)
        self._chunks = []
        self._matrix = None
        self._numpy = None
        self._grouping = None

    @property
    def matrix(self):  # numpy float32 array or torch tensor (n, dim)
        if self._numpy is None:
            self._numpy = self._use_numpy(len(self.part_ids))
        if self._numpy:
            if self._chunks:
                new = np.concatenate(self._chunks).astype(np.float32)
                self._matrix = new if self._matrix is None or len(self._matrix) == 0 else np.concatenate(
                    [self._matrix, new])
                self._chunks = []
            if self._matrix is None:
                self._matrix = np.zeros((0, 0), np.float32)
            return self._matrix
        import torch

        if self._chunks:
            new = torch.from_numpy(np.concatenate(self._chunks) if len(self._chunks) > 1 else self._chunks[0].copy())
            new = new.to(self.device).to(self.dtype)
            self._matrix = new if self._matrix is None or len(self._matrix) == 0 else torch.cat([self._matrix, new])
            self._chunks = []
        if self._matrix is None:
            self._matrix = torch.zeros((0, 0), dtype=self.dtype)
        return self._matrix

    def similarities(self, query: np.ndarray) -> np.ndarray:
        """Cosine similarity of the (unit) query with every row, as float32: one matrix-vector product."""
        m = self.matrix
        if len(m) == 0:
            return np.zeros(0, np.float32)
        if self._numpy:
            return np.asarray(m @ np.asarray(query, np.float32), np.float32)
        import torch

        q = torch.from_numpy(np.asarray(query, np.float32)).to(self.device).to(m.dtype)
        with torch.inference_mode():
            return (m @ q).float().cpu().numpy()

    @property
    def grouping(self) -> Grouping:
        if self._grouping is None:
            order = np.argsort(self.photo_ids, kind="stable")
            sorted_ids = self.photo_ids[order]
            starts = np.flatnonzero(np.r_[True, sorted_ids[1:] != sorted_ids[:-1]]) if len(order) else np.zeros(0, int)
            self._grouping = Grouping(order, starts, sorted_ids[starts] if len(order) else np.zeros(0, np.int64))
        return self._grouping

    def nbytes(self) -> int:
        m = self.matrix
        size = m.nbytes if self._numpy else m.element_size() * m.nelement()
        return int(size) + sum(a.nbytes for a in (
            self.part_ids, self.photo_ids, self.type_codes, self.mod_codes))
