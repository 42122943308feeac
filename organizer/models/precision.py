"""Whether int8 CLIP is safe for a library: fp32 and int8 embeddings of the same sample compared, by lower
bounds (not averages) of what a user would notice.

``--precision auto`` on the ONNX path (an install without torch, or ``--backend onnx``) runs int8 where this
check, made on the library's own photos, accepts it, and fp32 where it refuses; the verdict is recorded
for the library's embedding space and the CPU class it was measured on (int8 kernels differ with and
without VNNI). The limits are provisional: they were chosen from what each figure means to a user, and
stay to be checked against real CLIP weights (random test weights put every photo within 0.99 of every
other, so they cannot tell a good limit from a bad one).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

import numpy as np

from organizer.models.cpu import cpu_flags


@dataclass(frozen=True, slots=True)
class Limits:
    # a photo's two vectors: the 1st percentile of their cosine. Below about 0.98 a photo moves among its
    # near duplicates (same-scene photos sit 0.9-0.97 apart in CLIP's space)
    p1_cosine: float = 0.98
    # the worst vector: int8 rounding moves every vector a little; one far off is a broken model or kernel
    min_cosine: float = 0.9
    # (prompt, photo) pairs whose side of the search threshold changes: 1 in 100 results in or out
    crossings: float = 0.01
    # a text search's first 10 results (per prompt; the 5th percentile over prompts): 7 of 10 stay
    results: float = 0.7
    # photos whose shown zero-shot label (the landmark labels, shown above their confidence) changes
    top_changes: float = 0.03
    # photos whose OCR gate verdict (run OCR or not) changes
    gate_changes: float = 0.02
    # the worst photo's share of its 10 nearest neighbours (search by example photo) kept
    neighbours: float = 0.7


LIMITS = Limits()


@dataclass(frozen=True, slots=True)
class Agreement:
    """fp32 against int8 on one sample: what each figure is in :class:`Limits`."""

    vectors: int
    p1_cosine: float
    min_cosine: float
    crossings: float
    results: float  # the 5th percentile over prompts of the share of their first 10 results kept
    top_changes: float
    gate_changes: float
    neighbours: float  # the 1st percentile over photos of the share of their 10 nearest neighbours kept

    def failures(self, limits: Limits = LIMITS) -> list[str]:
        """What falls outside the limits, in words ([]: int8 is accepted)."""
        out = []
        if not self.p1_cosine >= limits.p1_cosine:
            out.append(f"1st-percentile cosine {self.p1_cosine:.4f} < {limits.p1_cosine}")
        if not self.min_cosine >= limits.min_cosine:
            out.append(f"worst cosine {self.min_cosine:.4f} < {limits.min_cosine}")
        if not self.crossings <= limits.crossings:
            out.append(f"{self.crossings:.1%} of search results in or out > {limits.crossings:.0%}")
        if not self.results >= limits.results:
            out.append(f"first 10 results of a search kept {self.results:.0%} < {limits.results:.0%}")
        if not self.top_changes <= limits.top_changes:
            out.append(f"{self.top_changes:.1%} of shown labels changed > {limits.top_changes:.0%}")
        if not self.gate_changes <= limits.gate_changes:
            out.append(f"{self.gate_changes:.1%} of OCR gate verdicts changed > {limits.gate_changes:.0%}")
        if not self.neighbours >= limits.neighbours:
            out.append(f"nearest neighbours kept {self.neighbours:.0%} < {limits.neighbours:.0%}")
        return out

    def as_dict(self) -> dict[str, float]:
        return {k: (round(v, 5) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def agreement(img32: np.ndarray, img8: np.ndarray, txt32: np.ndarray, txt8: np.ndarray, *, gate: tuple[int, int],
              cosine_threshold: float, gate_margin: float, logit_scale: float = 100.0, label_threshold: float = 0.5,
              k: int = 10) -> Agreement:
    """``img*``: (n, d) unit vectors of the same photos and crops; ``txt*``: (m, d) unit vectors of the same
    prompts, the first ``gate[0]`` the OCR gate's text prompts, the next ``gate[1]`` its other prompts, the
    rest zero-shot labels. ``cosine_threshold``: the raw cosine where a text search's results are cut;
    ``label_threshold``: the confidence (softmax at ``logit_scale``) a zero-shot label is shown from."""
    n = len(img32)
    cos = np.einsum("ij,ij->i", img32, img8)
    s32, s8 = img32 @ txt32.T, img8 @ txt8.T  # (n, m)
    crossings = float(np.mean((s32 >= cosine_threshold) != (s8 >= cosine_threshold)))
    kk = min(k, max(1, n // 5))
    top32 = np.argsort(-s32, axis=0, kind="stable")[:kk].T  # per prompt: its first results
    top8 = np.argsort(-s8, axis=0, kind="stable")[:kk].T
    results = float(np.percentile([len(set(x) & set(y)) / kk for x, y in zip(top32, top8, strict=True)], 5))
    a, b = gate
    if s32.shape[1] > a + b:  # zero-shot labels after the gate's prompts (none where landmarks are off)
        shown32 = _shown(s32[:, a + b:], logit_scale, label_threshold)
        top_changes = float(np.mean(shown32 != _shown(s8[:, a + b:], logit_scale, label_threshold)))
    else:
        top_changes = 0.0
    if a and b:
        g32 = s32[:, :a].max(1) - s32[:, a:a + b].max(1) >= gate_margin
        g8 = s8[:, :a].max(1) - s8[:, a:a + b].max(1) >= gate_margin
        gate_changes = float(np.mean(g32 != g8))
    else:
        gate_changes = 0.0
    kn = min(k, n - 1)
    if kn >= 1:
        near32 = _nearest(img32, kn)
        near8 = _nearest(img8, kn)
        kept = np.array([len(set(x) & set(y)) / kn for x, y in zip(near32, near8, strict=True)])
        neighbours = float(np.percentile(kept, 1))
    else:
        neighbours = 1.0
    return Agreement(n, float(np.percentile(cos, 1)), float(cos.min()), crossings, results, top_changes,
                     gate_changes, neighbours)


def _shown(scores: np.ndarray, logit_scale: float, threshold: float) -> np.ndarray:
    """The label each photo would show (-1: none confident enough), as the zero-shot head decides."""
    z = scores * logit_scale
    p = np.exp(z - z.max(1, keepdims=True))
    p /= p.sum(1, keepdims=True)
    best = p.argmax(1)
    return np.where(p[np.arange(len(p)), best] >= threshold, best, -1)


def _nearest(x: np.ndarray, k: int) -> np.ndarray:
    sims = x @ x.T
    np.fill_diagonal(sims, -np.inf)
    return np.argsort(-sims, axis=1, kind="stable")[:, :k]


def cpu_class() -> str:
    """The int8 kernels ONNX Runtime takes on this CPU: with VNNI (AVX-512 or AVX), plain AVX-512, AVX2, Arm
    dot products, or others. A verdict measured on one class is checked again on another."""
    flags = cpu_flags()
    if "avx512_vnni" in flags or "amx_int8" in flags:
        return "avx512-vnni"
    if "avx512f" in flags or "avx512bw" in flags:
        return "avx512"
    if "avx_vnni" in flags:
        return "avx-vnni"
    if "avx2" in flags:
        return "avx2"
    if "asimddp" in flags:
        return "arm-dotprod"
    return "other"
