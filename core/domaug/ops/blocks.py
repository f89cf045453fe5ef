"""Whole-raster arithmetic in cache-sized blocks of rows (pure helpers, no randomness).

A chain of elementwise numpy operations over a large image runs 2–3× faster on blocks
of rows whose temporaries stay in the L2 cache (and whose small allocations are
recycled instead of page-faulted). Every operation is elementwise, so a pixel's result
does not depend on the block it falls in: windows of a raster agree with the whole.

An H×W×C image is best worked on with all bands of a pixel adjacent: a per-pixel plane
(a gain map, an optical thickness) is :func:`spread` over the bands, so every pass runs
over contiguous memory instead of a strided band view.
"""

from __future__ import annotations

import numpy as np

from .opencv import cv2_module

#: values per block of rows (256 KiB of float32)
BLOCK_VALUES = 1 << 16
#: up to this many bands ``cv2.merge`` spreads a plane faster than ``np.repeat`` (measured: 1.2× at 7, 0.96× at 8)
MERGE_MAX_BANDS = 7


def row_blocks(start: int, stop: int, row_len: int, block_values: int = BLOCK_VALUES) -> list[tuple[int, int]]:
    """``(a, b)`` row ranges covering rows ``[start, stop)``, each about ``block_values`` values
    (rows of ``row_len`` values)."""
    step = max(1, block_values // max(1, row_len))
    return [(a, min(a + step, stop)) for a in range(start, stop, step)]


def block_rows(n_rows: int, row_len: int, block_values: int = BLOCK_VALUES) -> int:
    """Rows per block of :func:`row_blocks` (at most ``n_rows``): the size of a reusable buffer."""
    return max(1, min(n_rows, block_values // max(1, row_len)))


def spread(plane: np.ndarray, channels: int, out: np.ndarray | None = None) -> np.ndarray:
    """An H×W ``plane`` with each value repeated over ``channels`` bands: a C-contiguous
    H×W×C array, or ``out`` (any C-contiguous array of H·W·C values, e.g. H × W·C rows) filled.

    A pure copy (``cv2.merge`` for 2–7 float bands, 1.2–4× faster than numpy there; from 8
    bands on ``np.repeat`` is faster). One band without ``out``: a view of ``plane`` with a
    channel axis.
    """
    shape = plane.shape + (channels,)
    if channels == 1 and out is None:
        return plane[..., None]
    cv2 = cv2_module() if 1 < channels <= MERGE_MAX_BANDS and plane.dtype in (np.float32, np.float64) and plane.size else None
    if cv2 is None:
        repeated = np.repeat(plane[..., None], channels, axis=-1)
        if out is None:
            return repeated
        out.reshape(shape)[...] = repeated
        return out
    dst = np.empty(shape, plane.dtype) if out is None else out.reshape(shape)
    merged = cv2.merge([np.ascontiguousarray(plane)] * channels, dst=dst)
    if not np.shares_memory(merged, dst):  # OpenCV wrote elsewhere (never seen): copy
        dst[...] = merged.reshape(shape)
    return dst if out is None else out
