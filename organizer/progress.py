"""What long work reports as it goes (indexing, downloads, analysis, training): the events, and the
one meter that derives rate and ETA. The CLI draws a progress bar; the GUI emits signals."""

from __future__ import annotations

import time
from collections.abc import Generator
from dataclasses import dataclass, field
from typing import Any, TypeVar

R = TypeVar("R")


@dataclass(slots=True)
class Progress:
    phase: str  # "scan", "whole", "parts"
    done: int
    total: int
    path: str | None = None
    rate: float = 0.0  # items per second
    eta: float | None = None  # seconds


@dataclass(slots=True)
class Skipped:
    path: str
    reason: str
    detail: str


@dataclass(slots=True)
class Stored:
    """Photos just committed (searchable from now on)."""

    phase: str
    photo_ids: list[int]


@dataclass(slots=True)
class Notice:
    message: str


@dataclass(slots=True)
class Summary:
    scanned: int = 0
    new: int = 0
    linked: int = 0  # moved, copied or duplicate files pointed at photos already stored
    paired: int = 0  # RAW files and motion clips kept with the still of the same shot (one item, two files)
    unchanged: int = 0
    skipped: int = 0
    removed_paths: int = 0  # paths of files moved or renamed (their photo is found under another path)
    missing_paths: int = 0  # files not found; their photos stay, shown as missing
    restored: int = 0  # missing files found again
    offline: list[str] = field(default_factory=list)  # roots not found, empty or unlistable: nothing marked
    failed: int = 0  # photos a pass could not read (recorded, not retried until the file is seen again)
    reembedded: int = 0
    parts_done: int = 0
    parts_found: int = 0
    text_found: int = 0
    ocr_run: int = 0
    landmarks: int = 0  # photos given a landmark
    places: int = 0  # photos given a place name from their GPS
    faces_done: int = 0  # photos the faces pass looked at
    faces_found: int = 0
    frames_found: int = 0  # video frames embedded (besides the posters)
    seconds: dict[str, float] = field(default_factory=dict)


Event = Progress | Skipped | Stored | Notice | Summary


class Meter:
    """Counts the done items of one phase and derives rate and ETA: the one place that does.

    ``baseline``: items already done before this run started (a resumed download), which count for
    the position but not for the rate."""

    def __init__(self, phase: str, total: int, baseline: int = 0) -> None:
        self.phase, self.total, self.done, self.baseline = phase, total, baseline, baseline
        self.start = time.perf_counter()

    def step(self, n: int = 1, path: str | None = None) -> Progress:
        return self.at(self.done + n, path)

    def at(self, done: int, path: str | None = None, total: int | None = None) -> Progress:
        """Progress at an absolute count (and, where it grows as work is found, a new total)."""
        self.done = done
        if total is not None:
            self.total = total
        elapsed = max(time.perf_counter() - self.start, 1e-9)
        rate = (self.done - self.baseline) / elapsed
        eta = (self.total - self.done) / rate if rate > 0 and self.total >= self.done else None
        return Progress(self.phase, self.done, self.total, path, rate, eta)

    def follow(self, gen: Generator[int, Any, R]) -> Generator[Progress, None, R]:
        """Yield Progress for each count a generator yields ("rows done"); return its result."""
        while True:
            try:
                done = next(gen)
            except StopIteration as stop:
                return stop.value
            yield self.at(done)

    @property
    def elapsed(self) -> float:
        return time.perf_counter() - self.start


def drain(gen: Generator[Any, Any, R]) -> R:
    """Run a generator that yields progress to its end, for its return value (callers with no bar)."""
    while True:
        try:
            next(gen)
        except StopIteration as stop:
            return stop.value
