"""Whole-raster band arithmetic in contiguous passes (pure helpers, no randomness).

An H×W×C image is worked on as H rows of ``W·C`` values (all bands of a pixel adjacent):
per-band constants become one tiled row of ``W·C`` values and per-pixel fields are spread
over the bands (:func:`domaug.kit.spread`), so every numpy pass runs over contiguous memory
instead of a strided band view (5–10× faster for 4–12 bands). Blocks of rows
(:func:`domaug.kit.row_blocks`) keep the temporaries in the L2 cache.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np


def as_rows(array: np.ndarray) -> np.ndarray:
    """A C-contiguous H×W or H×W×C array as H rows of W·C values (a view)."""
    return array.reshape(array.shape[0], -1)


def tiled(values: Sequence[float], width: int, dtype) -> np.ndarray:
    """Per-band constants as one row of ``width`` pixels (``width·len(values)`` values)."""
    return np.tile(np.asarray(values, dtype=np.float64), width).astype(dtype)
