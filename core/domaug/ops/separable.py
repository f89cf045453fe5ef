"""Separable correlation with symmetric 1-D kernels (the sampled Gaussian PSF, box filters).

A separable point-spread function blurs one axis at a time: ``k(y, x) = k_y(y)·k_x(x)``,
so an N-tap 2-D blur costs 2N multiply-adds per pixel instead of N². Kernels here are
symmetric and odd-sized; boundaries are half-sample symmetric reflection
(``scipy.ndimage`` mode ``"reflect"``), so a blur keeps the image mean. Spatial axes only:
channels/bands are never mixed. Work is float32 (float64 stays float64).

This is the lower half of :mod:`domaug.ops.psf` (which builds the kernels) and
:mod:`domaug.ops.convolve` (which sends symmetric line kernels here); it imports neither.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np


def separable_filter(image: np.ndarray, weights: Sequence[np.ndarray | None], *,
                     integer_out: bool = False) -> np.ndarray:
    """Correlate the leading axes with symmetric odd 1-D kernels (``None`` = leave axis).

    Half-sample symmetric boundaries; float32 (float64 for float64) output, or uint8
    for a uint8 input with ``integer_out=True`` on the OpenCV path. The numpy path pairs
    the taps at ±k as sums of shifted slices on blocks of rows that stay in cache.
    """
    dtype = np.float64 if image.dtype == np.float64 else np.float32
    weights = list(weights)
    radii = [0 if w is None else len(w) // 2 for w in weights]
    if not any(radii):
        return image.astype(dtype, copy=True)
    fast = _cv_separable(image, weights, integer_out)
    if fast is not None:
        return fast
    pads = [(r, r) for r in radii] + [(0, 0)] * (image.ndim - len(radii))
    padded = np.pad(image, pads, mode="symmetric")
    out = np.empty(image.shape, dtype=dtype)
    n0 = image.shape[0]
    row_bytes = max(1, padded[0].size * np.dtype(dtype).itemsize)
    block = max(4 * radii[0], 8, (1 << 20) // row_bytes)
    ws = [None if w is None else np.asarray(w, dtype=dtype) for w in weights]

    def run(start: int) -> None:
        stop = min(start + block, n0)
        cur = padded[start:stop + 2 * radii[0]].astype(dtype)
        for axis in range(len(ws) - 1, 0, -1):
            if ws[axis] is not None:
                cur = _symmetric_pass(cur, ws[axis], axis)
        if ws[0] is not None:
            _symmetric_pass(cur, ws[0], 0, out=out[start:stop])
        else:
            out[start:stop] = cur

    from .parallel import parallel_for

    parallel_for(run, range(0, n0, block), work=image.size)
    return out


def _cv_separable(image: np.ndarray, weights: list, integer_out: bool) -> np.ndarray | None:
    """OpenCV ``sepFilter2D`` over the last two spatial axes (+ numpy along depth), or None."""
    from . import opencv

    cv2 = opencv.cv2_module()
    nd = len(weights)
    if cv2 is None or nd not in (2, 3) or not _cv_takes(opencv, image, nd):
        return None
    src, ddepth, dtype = _cv_depth(cv2, image, integer_out and (nd == 2 or weights[0] is None))
    kdtype = np.float64 if ddepth == cv2.CV_64F else np.float32
    wy, wx = weights[nd - 2:]
    ky = _cv_taps(wy, kdtype)
    kx = ky if wx is wy else _cv_taps(wx, kdtype)
    out = opencv.filter_planes(lambda a: cv2.sepFilter2D(a, ddepth, kx, ky, borderType=cv2.BORDER_REFLECT),
                               src, nd, dtype)
    if nd == 3 and weights[0] is not None:  # the depth axis: numpy pass
        out = separable_filter(out, [weights[0]])
    return out


def _cv_takes(opencv: Any, image: np.ndarray, nd: int) -> bool:
    """OpenCV filters this image: a depth it filters, at most 512 channels, a non-empty plane."""
    if opencv.depth_of(image.dtype) is None:
        return False
    plane = image.shape[nd - 2:nd]
    return math.prod(image.shape[nd:]) <= opencv.MAX_CHANNELS and min(plane) >= 1 and max(plane) < 2**31


def _cv_depth(cv2: Any, image: np.ndarray, uint8_out: bool) -> tuple[np.ndarray, int, type]:
    """(source, OpenCV output depth, numpy output dtype) of a separable filter of ``image``."""
    if image.dtype == np.float64:
        return image, cv2.CV_64F, np.float64
    if image.dtype in (np.uint16, np.int16):  # OpenCV has no SIMD 16-bit filters: float is faster
        return image.astype(np.float32), cv2.CV_32F, np.float32
    if image.dtype == np.uint8 and uint8_out:
        return image, cv2.CV_8U, np.uint8
    return image, cv2.CV_32F, np.float32


def _cv_taps(w: np.ndarray | None, kdtype: type) -> np.ndarray:
    """One axis's kernel as OpenCV takes it (``None``: the 1-tap identity)."""
    return np.ones(1, kdtype) if w is None else np.asarray(w, dtype=kdtype)


def _symmetric_pass(a: np.ndarray, w: np.ndarray, axis: int, out: np.ndarray | None = None) -> np.ndarray:
    """One symmetric correlation along ``axis`` of an array padded by r on that axis."""
    r = len(w) // 2
    n = a.shape[axis] - 2 * r

    def shifted(k: int) -> np.ndarray:
        index = [slice(None)] * a.ndim
        index[axis] = slice(r + k, r + k + n)
        return a[tuple(index)]

    out = np.multiply(shifted(0), w[r], out=out)
    tmp = np.empty_like(out)
    for k in range(1, r + 1):
        np.add(shifted(k), shifted(-k), out=tmp)
        tmp *= w[r + k]
        out += tmp
    return out


def symmetric_filter1d(image: np.ndarray, weights: np.ndarray, axis: int, dtype=np.float32) -> np.ndarray:
    """Correlate along one axis with a symmetric odd-length kernel (half-sample reflection)."""
    per_axis: list[np.ndarray | None] = [None] * (axis + 1)
    per_axis[axis] = np.asarray(weights)
    out = separable_filter(image, per_axis)
    return out if out.dtype == dtype else out.astype(dtype)
