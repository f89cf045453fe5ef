"""A tiny fork-safe thread pool for block-parallel numpy kernels.

numpy releases the GIL inside its loops, so independent row blocks of a large image
can run on several cores. Results do not depend on the thread count: every block is
computed by the same operations in the same order. ``DOMAUG_NUM_THREADS=1`` disables
threading (e.g. inside dask or multiprocessing workers that already fill the cores).
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Iterable

_POOL: ThreadPoolExecutor | None = None
_POOL_PID: int | None = None


def num_threads() -> int:
    """Threads to use: ``DOMAUG_NUM_THREADS`` or min(4, CPU count)."""
    env = os.environ.get("DOMAUG_NUM_THREADS")
    if env:
        try:
            return max(1, int(env))
        except ValueError:
            pass
    return max(1, min(4, os.cpu_count() or 1))


def _pool(n: int) -> ThreadPoolExecutor:
    global _POOL, _POOL_PID
    if _POOL is None or _POOL_PID != os.getpid() or _POOL._max_workers != n:  # new after fork
        _POOL = ThreadPoolExecutor(max_workers=n, thread_name_prefix="domaug")
        _POOL_PID = os.getpid()
    return _POOL


def parallel_for(fn: Callable[[int], None], items: Iterable[int], *, work: int = 0) -> None:
    """Call ``fn(item)`` for every item, on threads when ``work`` (elements) is large."""
    items = list(items)
    n = num_threads()
    if n == 1 or len(items) < 2 or work < 1_000_000:
        for item in items:
            fn(item)
        return
    for _ in _pool(n).map(fn, items):
        pass
