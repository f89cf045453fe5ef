"""Pixel integration: shrink a grid by the exact area each coarse pixel covers.

A detector with bigger pixels integrates the irradiance over its footprint, so a coarse
pixel is the mean of the fine image over that pixel's area: the boxcar pixel response,
whose MTF is ``sinc(π f p)`` (Schowengerdt, *Remote Sensing*, 3rd ed. 2007, §3.4).
This is what :class:`domaug.transforms.Resize` uses to antialias a downsampling
(OpenCV's ``INTER_AREA`` computes the same overlaps).

Grids are edge-aligned (the bounds stay put): along an axis shrunk from ``n_in`` to
``n_out`` pixels, coarse pixel ``j`` covers fine coordinates ``[j·n_in/n_out,
(j+1)·n_in/n_out)``. The overlap weights are computed in integers (units of
``1/n_out`` pixel), so they are exact and every row sums to 1.

:func:`integrate` is the reference (separable sparse products, any dtype, 2-D or 3-D,
float out); :func:`integrate_native` is OpenCV's ``cv2.resize(INTER_AREA)`` in the
array's own dtype (rounded), or None when OpenCV cannot do it.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Sequence

import numpy as np

from ._resample_cv import cv_channels, cv_size_ok
from .opencv import cv2_module

#: dtypes ``cv2.resize(INTER_AREA)`` takes.
_CV_AREA_DTYPES = frozenset(np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.float32, np.float64))


def shrunk_shape(in_shape: Sequence[int], out_shape: Sequence[int]) -> tuple[int, ...]:
    """The grid after integrating along every axis that shrinks (the others unchanged)."""
    return tuple(min(int(i), int(o)) for i, o in zip(in_shape, out_shape))


@lru_cache(maxsize=64)
def overlap_matrix(n_in: int, n_out: int):
    """Sparse ``n_out × n_in`` matrix of area weights (rows sum to 1) for ``n_out <= n_in``."""
    from scipy import sparse

    if not 1 <= n_out <= n_in:
        raise ValueError(f"area integration shrinks an axis: {n_in} -> {n_out} pixels")
    taps = -(-n_in // n_out) + 1  # a coarse pixel touches at most ceil(n_in/n_out) + 1 fine pixels
    j = np.arange(n_out, dtype=np.int64)[:, None]
    start, stop = j * n_in, (j + 1) * n_in  # in units of 1/n_out fine pixel
    i = (start // n_out) + np.arange(taps, dtype=np.int64)[None, :]
    overlap = np.minimum(stop, (i + 1) * n_out) - np.maximum(start, i * n_out)
    keep = (overlap > 0) & (i < n_in)
    rows = np.broadcast_to(j, i.shape)[keep]
    return sparse.csr_matrix((overlap[keep] / n_in, (rows, i[keep])), shape=(n_out, n_in))


def integrate(array: np.ndarray, out_shape: Sequence[int], spatial_ndim: int) -> np.ndarray:
    """Area means of ``array`` on the coarser grid ``out_shape`` (float32; float64 for float64).

    Every spatial axis must shrink or stay; channels (trailing axes) are never mixed.
    """
    dtype = np.float64 if array.dtype == np.float64 else np.float32
    out = np.asarray(array, dtype=dtype)
    for axis in range(spatial_ndim):
        n_in, n_out = out.shape[axis], int(out_shape[axis])
        if n_out == n_in:
            continue
        weights = overlap_matrix(n_in, n_out).astype(dtype)
        moved = np.moveaxis(out, axis, 0)
        flat = np.ascontiguousarray(moved).reshape(n_in, -1)
        result = np.asarray(weights @ flat, dtype=dtype).reshape((n_out,) + moved.shape[1:])
        out = np.moveaxis(result, 0, axis)
    return np.ascontiguousarray(out)


def integrate_native(array: np.ndarray, out_shape: Sequence[int], spatial_ndim: int) -> np.ndarray | None:
    """:func:`integrate` in the array's own dtype with OpenCV (rounded for integers), or None.

    Volumes are integrated in-plane slice by slice; a volume whose slice count shrinks
    goes to the reference path.
    """
    cv2 = cv2_module()
    out_shape = tuple(int(v) for v in out_shape)
    if cv2 is None or array.size == 0 or array.dtype not in _CV_AREA_DTYPES or spatial_ndim not in (2, 3):
        return None
    if spatial_ndim == 3 and out_shape[0] != array.shape[0]:
        return None
    if max(array.shape[spatial_ndim - 2:spatial_ndim]) >= 32000 or not cv_size_ok(array, spatial_ndim,
                                                                                    out_shape[-2:]):
        return None
    h, w = out_shape[-2:]
    return cv_channels(array, spatial_ndim, lambda a: cv2.resize(a, (w, h), interpolation=cv2.INTER_AREA))
