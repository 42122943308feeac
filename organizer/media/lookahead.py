"""Run a function over items in worker threads, a bounded number ahead, yielding results in order."""

from __future__ import annotations

import contextlib
import os
import threading
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int, ahead: int) -> Iterator[tuple[T, R]]:
    """Like ``map`` over a thread pool, but at most ``ahead`` items are in flight, so memory stays flat
    and a consumer that stops early (cancel) leaves little work behind."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="organizer-io", initializer=_background)
    pending: deque[tuple[T, Future[R]]] = deque()
    it = iter(items)
    finished = False
    try:
        for item in it:
            pending.append((item, pool.submit(fn, item)))
            if len(pending) >= ahead:
                head, fut = pending.popleft()
                yield head, fut.result()
        while pending:
            head, fut = pending.popleft()
            yield head, fut.result()
        finished = True
    finally:
        for _, fut in pending:
            fut.cancel()
        # stopped early (cancel, Ctrl-C): the items in flight end on their own; waiting here for one stuck in a
        # read of a hung drive would hold the cancel up to the read's bound
        pool.shutdown(wait=finished, cancel_futures=True)


def _background() -> None:
    """Read-ahead threads run at the lowest priority (Linux: per thread), so that on two cores they fill the
    gaps of the model's threads instead of taking turns with them; measured on an AVX2-only 2-core EPYC
    together with ONNX Runtime's threads sleeping instead of spinning: first pass 9.0 -> 10.1 photos/s."""
    setpriority = getattr(os, "setpriority", None)
    if setpriority is None:
        return
    with contextlib.suppress(OSError):
        setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
