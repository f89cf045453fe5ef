"""Keep freed image-sized memory inside the batch processes: no page faults per image.

glibc's malloc hands freed blocks above its mmap threshold back to the kernel, and trims
the heap above its trim threshold; the next image's arrays then fault every page in
again. For a 1024² frame that was 1 500–2 500 minor faults and 3–5 ms per call for
several driving transforms (Fog 16.5 → 12.0 ms, Snow 17.1 → 13.1, MotionBlur 17.7 →
12.4 with the thresholds below). Processes the batch engine owns (the ``domaug`` CLI and
its pool workers) raise both thresholds with ``mallopt`` (glibc's documented tunables,
``man 3 mallopt``), so blocks up to :data:`MMAP_THRESHOLD_BYTES` come from the heap and
up to :data:`TRIM_THRESHOLD_BYTES` of freed heap is kept for reuse. A library user's own
process is never touched. ``GLIBC_TUNABLES`` / ``MALLOC_*_`` set by the user win, and
``DOMAUG_KEEP_FREED_MEMORY=0`` turns this off. Elsewhere (musl, macOS, Windows) it does
nothing.
"""

from __future__ import annotations

import os
import sys

MMAP_THRESHOLD_BYTES = 32 * 1024 * 1024
TRIM_THRESHOLD_BYTES = 128 * 1024 * 1024
_M_TRIM_THRESHOLD, _M_MMAP_THRESHOLD = -1, -3  # glibc's malloc.h
_done: bool | None = None


def keep_freed_memory() -> bool:
    """Raise glibc's mmap and trim thresholds in this process (once); True when applied."""
    global _done
    if _done is not None:
        return _done
    _done = False
    if not sys.platform.startswith("linux") or os.environ.get("DOMAUG_KEEP_FREED_MEMORY", "1").strip() in ("0", ""):
        return False
    if os.environ.get("GLIBC_TUNABLES") or any(k.startswith("MALLOC_") and k.endswith("_") for k in os.environ):
        return False  # the user tuned malloc: leave it
    try:
        import ctypes

        mallopt = ctypes.CDLL("libc.so.6").mallopt
    except (OSError, AttributeError):  # not glibc
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    _done = bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD_BYTES)) and bool(
        mallopt(_M_TRIM_THRESHOLD, TRIM_THRESHOLD_BYTES))
    return _done
