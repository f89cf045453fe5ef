"""Per-thread scratch buffers for the large intermediate arrays of the driving transforms.

A 1024² RGB frame in linear float32 planes is 12 MiB; allocating it afresh on every call
makes glibc hand the pages back to the kernel when they are freed and fault them in
again on the next call (≈ 3 000 page faults, several ms per call at 1024², more than the
arithmetic). These buffers are reused instead: one per (name, thread), re-allocated
only when a larger one is asked for. They only ever hold intermediates — every
transform returns freshly allocated arrays — and are fully overwritten (or zeroed)
before use, so results never depend on what a previous call left in them.
"""

from __future__ import annotations

import threading

import numpy as np

_local = threading.local()
#: Larger buffers are allocated per call instead (at most ~2 × this is held per thread).
MAX_CACHED_BYTES = 64 << 20


def buffer(name: str, shape: tuple[int, ...], dtype=np.float32, zero: bool = False) -> np.ndarray:
    """A C-contiguous array of ``shape`` and ``dtype`` owned by this thread under ``name``
    (zero-filled when ``zero``, else with arbitrary contents). The caller must not keep it
    past the call nor return it: the next call with the same ``name`` reuses it.

    The memory under a name only grows: a smaller request is a view of the start of the
    largest one so far, so alternating sizes (a 256-entry table, then a frame) never
    re-allocate and fault the large one in again."""
    dtype = np.dtype(dtype)
    shape = tuple(int(s) for s in shape)
    nbytes = int(np.prod(shape)) * dtype.itemsize
    if nbytes > MAX_CACHED_BYTES:  # huge frames: not worth holding on to
        return np.zeros(shape, dtype=dtype) if zero else np.empty(shape, dtype=dtype)
    cache = getattr(_local, "buffers", None)
    if cache is None:
        cache = _local.buffers = {}
    raw = cache.get(name)
    if raw is None or raw.size < nbytes:
        cache[name] = raw = np.empty(max(nbytes, 1), dtype=np.uint8)
    arr = raw[:nbytes].view(dtype).reshape(shape)
    if zero:
        arr.fill(0)
    return arr
