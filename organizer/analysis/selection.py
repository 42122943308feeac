"""Which vectors an analysis runs on, and a signature of them that changes when they change."""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from typing import Any

import numpy as np

from organizer.errors import BadArgumentError
from organizer.parts import PartType
from organizer.store.db import Store

MODES = ("whole", "parts")


@dataclass(slots=True)
class Selection:
    mode: str
    part_ids: np.ndarray
    photo_ids: np.ndarray
    types: list[str]
    vectors: np.ndarray  # float32, unit
    signature: str


def select_vectors(store: Store, model: str, mode: str, params: dict[str, Any]) -> Selection:
    """Image vectors only (never text: text and image similarities do not share a scale): whole photos,
    or the detected object parts (a photo can then sit in several clusters)."""
    if mode not in MODES:
        raise BadArgumentError(f"Unknown mode '{mode}': choose whole or parts")
    if mode == "whole":
        types = [PartType.WHOLE.value]
    else:
        types = [t.value for t in PartType if t not in (PartType.WHOLE, PartType.TEXT)]
    rows = store.vectors(model, types=types)
    h = hashlib.blake2b(digest_size=16)
    h.update(json.dumps({"model": model, "mode": mode, **params}, sort_keys=True).encode())
    h.update(np.ascontiguousarray(rows.embedding_ids).tobytes())
    return Selection(mode, rows.part_ids, rows.photo_ids, rows.types,
                     rows.matrix.astype(np.float32) if len(rows.types) else np.zeros((0, 0), np.float32),
                     h.hexdigest())
