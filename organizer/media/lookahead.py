"""Run a function over items in worker threads, a bounded number ahead, yielding results in order."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

T = TypeVar("T")
R = TypeVar("R")


def bounded_map(fn: Callable[[T], R], items: Iterable[T], workers: int, ahead: int) -> Iterator[tuple[T, R]]:
    """Like ``map`` over a thread pool, but at most ``ahead`` items are in flight, so memory stays flat
    and a consumer that stops early (cancel) leaves little work behind."""
    pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="organizer-io")
    pending: deque[tuple[T, Future[R]]] = deque()
    it = iter(items)
    try:
        for item in it:
            pending.append((item, pool.submit(fn, item)))
            if len(pending) >= ahead:
                head, fut = pending.popleft()
                yield head, fut.result()
        while pending:
            head, fut = pending.popleft()
            yield head, fut.result()
    finally:
        for _, fut in pending:
            fut.cancel()
        pool.shutdown(wait=True, cancel_futures=True)
