"""Nodata helpers for kernels that mix neighbouring pixels (codecs, filters, shifts).

A kernel that reads a neighbourhood must not see what nodata pixels hold (NaN, −9999,
0 or the dtype maximum): NaN·0 is NaN in a weighted sum, and a −9999 fill inside a JPEG
8×8 block or a filter support drags valid neighbours. Filling nodata with the valid mean of
each band before the kernel makes the valid output independent of the nodata contents;
the pixel-transform base class puts the nodata pixels back bit-exact afterwards.
"""

from __future__ import annotations

import numpy as np


def band_means(image: np.ndarray, valid: np.ndarray) -> np.ndarray:
    """Mean of the valid, finite pixels of each band (float64, shape ``image.shape[valid.ndim:]``;
    0 for a band without any)."""
    values = np.asarray(image)[np.asarray(valid, bool)]  # (n, *bands)
    values = values.astype(np.float64, copy=False)
    finite = np.isfinite(values)
    count = finite.sum(axis=0)
    total = np.where(finite, values, 0.0).sum(axis=0)
    return np.where(count > 0, total / np.maximum(count, 1), 0.0)


def fill_invalid(image: np.ndarray, valid: np.ndarray | None, *, round_integers: bool = True) -> np.ndarray:
    """A copy of ``image`` with the pixels where ``valid`` is False set to the valid mean of
    each band (``valid`` covers the spatial axes, ``image`` may add a trailing band axis).

    Integer images get the rounded mean. Returns ``image`` itself (no copy) when nothing
    is invalid.
    """
    if valid is None:
        return image
    valid = np.asarray(valid, bool)
    if valid.all() or valid.shape != image.shape[:valid.ndim]:
        return image
    means = band_means(image, valid)
    out = image.copy()
    if np.issubdtype(out.dtype, np.integer):
        info = np.iinfo(out.dtype)
        means = np.clip(np.rint(means) if round_integers else means, info.min, info.max)
    out[~valid] = means.astype(out.dtype)
    return out
