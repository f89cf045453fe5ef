"""Pure kernels of satellite.BandMisregistration: one band resampled at a shifted / rotated grid.

The band is sampled at ``R(θ)·(p − c) + c − s`` (absolute pixel coordinates p of the full
raster, window ``offset``), bilinearly, edge values beyond the raster ("nearest"), with
normalised weights around nodata. Every output pixel depends only on its absolute
position and the source pixels around it, so windows (with a halo) equal the whole:

* pure shift (θ = 0): separable two-tap interpolation with constant weights, numpy
  slices in float32 (no position quantisation);
* rotation, OpenCV available: ``cv2.remap`` with fixed-point maps that *we* compute from
  absolute coordinates (positions rounded to OpenCV's 1/32-pixel grid, error ≤ 1/64 px);
* rotation without OpenCV (``DOMAUG_OPENCV=0``): ``scipy.ndimage.affine_transform``.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np

from domaug.kit import cv2_module

#: OpenCV's interpolation grid: 1/32 pixel (INTER_BITS = 5)
_INTER_BITS = 5
_INTER_SIZE = 1 << _INTER_BITS
#: fixed-point maps hold coordinates in int16
_CV_MAX_COORD = 32000


# --------------------------------------------------------------------------- pure shift

def _axis_slice(axis: int, lo: int, hi: int) -> tuple:
    return (slice(None),) * axis + (slice(lo, hi),)


def _shift_axis(a: np.ndarray, delta: float, axis: int, out: np.ndarray) -> np.ndarray:
    """``out[k] = a(k + delta)`` along ``axis`` (2-tap linear, end values of ``a`` repeated
    beyond); ``out`` may be shorter than ``a`` along the axis."""
    n_in, n_out = a.shape[axis], out.shape[axis]
    i = math.floor(delta)
    f = delta - i
    w0, w1 = a.dtype.type(1.0 - f), a.dtype.type(f)
    lo = min(max(0, -i), n_out)
    hi = max(min(n_out, n_in - 1 - i), lo)  # k ∈ [lo, hi): both taps inside
    if hi > lo:
        o = out[_axis_slice(axis, lo, hi)]
        np.multiply(a[_axis_slice(axis, lo + i, hi + i)], w0, out=o)
        if f:
            o += a[_axis_slice(axis, lo + i + 1, hi + i + 1)] * w1
    if lo > 0 or hi < n_out:
        edge = np.concatenate([np.arange(lo), np.arange(hi, n_out)])
        t0 = np.take(a, np.clip(edge + i, 0, n_in - 1), axis=axis) * w0
        if f:
            t0 += np.take(a, np.clip(edge + i + 1, 0, n_in - 1), axis=axis) * w1
        out[(slice(None),) * axis + (edge,)] = t0
    return out


#: values per row block of :func:`shift_2d` (the column-shifted rows stay in cache)
_BLOCK = 1 << 16


def shift_2d(a: np.ndarray, shift_rc: Sequence[float]) -> np.ndarray:
    """``a`` (2-D float) sampled at ``p − shift`` (bilinear; columns first, then rows), by
    blocks of output rows: each block shifts only the source rows it needs along the
    columns, then combines them (every pixel: the same operations as a whole-array pass)."""
    h, w = a.shape
    dy, dx = -float(shift_rc[0]), -float(shift_rc[1])
    iy = math.floor(dy)
    extra = 1 if dy - iy else 0
    out = np.empty_like(a)
    step = max(1, _BLOCK // max(1, w))
    buf = np.empty((min(step, h) + 1, w), a.dtype)
    for y0 in range(0, h, step):
        y1 = min(h, y0 + step)
        lo = min(max(y0 + iy, 0), h - 1)
        hi = min(max(y1 - 1 + iy + extra, 0), h - 1) + 1
        cols = _shift_axis(a[lo:hi], dx, 1, buf[:hi - lo])
        _shift_axis(cols, dy + (y0 - lo), 0, out[y0:y1])
    return out


# --------------------------------------------------------------------------- rotation

def _affine(angle_deg: float, offset, centre, shift_rc):
    """(matrix, vector) mapping local output (row, col) to local source (row, col)."""
    a = math.radians(angle_deg)
    rot = np.array([[math.cos(a), -math.sin(a)], [math.sin(a), math.cos(a)]])
    off = np.asarray(offset, dtype=np.float64)
    c = np.asarray(centre, dtype=np.float64)
    vec = rot @ (off - c) + c - np.asarray(shift_rc, dtype=np.float64) - off
    return rot, vec


def _fixed_maps(shape, angle_deg: float, offset, centre, shift_rc):
    """OpenCV fixed-point maps (int16 (x, y) pairs, uint16 1/32-px fractions) for the band.

    Positions are ``rint(32 · (row term + column term))`` of the *absolute* coordinates, each
    term a float64 function of one absolute index, so a window gets exactly the integers of
    the whole raster (then shifted by its offset)."""
    h, w = shape
    a = math.radians(angle_deg)
    ca, sa = math.cos(a), math.sin(a)
    cr, cc = float(centre[0]), float(centre[1])
    r = np.arange(offset[0], offset[0] + h, dtype=np.float64) - cr
    c = np.arange(offset[1], offset[1] + w, dtype=np.float64) - cc
    s = float(_INTER_SIZE)
    # source row = cos·r − sin·c + cr − s_r ; source col = sin·r + cos·c + cc − s_c (absolute)
    y_row = s * (ca * r + cr - float(shift_rc[0]))
    y_col = s * (-sa * c)
    x_row = s * (sa * r)
    x_col = s * (ca * c + cc - float(shift_rc[1]))
    ys = np.rint(y_row[:, None] + y_col[None, :]).astype(np.int32)
    ys -= int(offset[0]) * _INTER_SIZE
    xs = np.rint(x_row[:, None] + x_col[None, :]).astype(np.int32)
    xs -= int(offset[1]) * _INTER_SIZE
    map1 = np.empty((h, w, 2), np.int16)
    np.right_shift(xs, _INTER_BITS, out=map1[..., 0], casting="unsafe")
    np.right_shift(ys, _INTER_BITS, out=map1[..., 1], casting="unsafe")
    ys &= _INTER_SIZE - 1
    xs &= _INTER_SIZE - 1
    ys <<= _INTER_BITS
    ys |= xs
    return map1, ys.astype(np.uint16)


def _maps_fit(shape, angle_deg, shift_rc) -> bool:
    reach = max(abs(float(v)) for v in shift_rc) + math.radians(abs(angle_deg)) * math.hypot(*shape) + 2
    return max(shape) + reach < _CV_MAX_COORD


def _rotate_cv(cv2, arrays, shape, angle_deg, offset, centre, shift_rc):
    map1, map2 = _fixed_maps(shape, angle_deg, offset, centre, shift_rc)
    return [cv2.remap(x, map1, map2, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE) for x in arrays]


def _rotate_scipy(arrays, angle_deg, offset, centre, shift_rc):
    from scipy import ndimage

    rot, vec = _affine(angle_deg, offset, centre, shift_rc)
    return [ndimage.affine_transform(x, rot, offset=vec, order=1, mode="nearest") for x in arrays]


# --------------------------------------------------------------------------- one band

def warp_band(band: np.ndarray, valid: np.ndarray | None, shift_rc, angle_deg: float,
              offset, centre, invalid_idx: np.ndarray | None = None) -> np.ndarray:
    """Resample one band (2-D float32/float64) at ``R(angle)·(p − centre) + centre − shift``
    (absolute pixel coordinates, window ``offset``), linear, with normalised weights around
    nodata (``valid`` False): nodata contents never reach valid pixels, and valid pixels with
    less than half of valid weight keep their value. Pixels whose taps are all valid equal
    the unweighted warp bit for bit; only the valid ones next to nodata are renormalised
    (invalid pixels come out unspecified: the caller puts the original values back).
    ``invalid_idx`` = ``np.flatnonzero(~valid)`` when already known (shared by the bands)."""
    if valid is None:
        return _warp([np.ascontiguousarray(band)], shift_rc, angle_deg, offset, centre)[0]
    if invalid_idx is None:
        invalid_idx = np.flatnonzero(~valid)
    zeroed = np.array(band, copy=True, order="C")
    zeroed.reshape(-1)[invalid_idx] = 0  # nodata contents (maybe NaN) never enter a sum
    if angle_deg == 0.0:
        num = _warp([zeroed], shift_rc, 0.0, offset, centre)[0]
        fix = np.flatnonzero(_touched(~valid, shift_rc) & valid)
        den = _shift_weight(valid, shift_rc, fix)
    else:
        num, den_full = _warp([zeroed, valid.astype(zeroed.dtype)], shift_rc, angle_deg, offset, centre)
        fix = np.flatnonzero((den_full < 1.0 - 1e-5) & valid)
        den = den_full.reshape(-1)[fix]
    if fix.size:
        rows, cols = np.divmod(fix, valid.shape[1])
        renorm = num.reshape(-1)[fix] / np.maximum(den, 1e-6).astype(num.dtype)
        num.reshape(-1)[fix] = np.where(den > 0.5, renorm, band[rows, cols])
    return num


def _warp(arrays, shift_rc, angle_deg, offset, centre) -> list[np.ndarray]:
    if angle_deg == 0.0:
        return [shift_2d(x, shift_rc) for x in arrays]
    cv2 = cv2_module()
    shape = arrays[0].shape
    if cv2 is not None and arrays[0].dtype == np.float32 and _maps_fit(shape, angle_deg, shift_rc):
        return _rotate_cv(cv2, arrays, shape, angle_deg, offset, centre, shift_rc)
    return _rotate_scipy(arrays, angle_deg, offset, centre, shift_rc)


def _taps(delta: float) -> tuple[int, float]:
    i = math.floor(delta)
    return i, delta - i


def _touched(invalid: np.ndarray, shift_rc) -> np.ndarray:
    """Pixels whose bilinear taps (nonzero weight) at ``p − shift`` include an invalid one."""
    out = invalid
    for axis, delta in ((1, -float(shift_rc[1])), (0, -float(shift_rc[0]))):
        n = out.shape[axis]
        i, f = _taps(delta)
        k = np.arange(n)
        hit = np.take(out, np.clip(k + i, 0, n - 1), axis=axis)
        if f:
            hit |= np.take(out, np.clip(k + i + 1, 0, n - 1), axis=axis)
        out = hit
    return out


def _shift_weight(valid: np.ndarray, shift_rc, flat_idx: np.ndarray) -> np.ndarray:
    """The bilinear sum of ``valid`` at ``p − shift`` for the pixels ``flat_idx`` only (float64)."""
    h, w = valid.shape
    rows, cols = np.divmod(flat_idx, w)
    iy, fy = _taps(-float(shift_rc[0]))
    ix, fx = _taps(-float(shift_rc[1]))
    r0, r1 = np.clip(rows + iy, 0, h - 1), np.clip(rows + iy + 1, 0, h - 1)
    c0, c1 = np.clip(cols + ix, 0, w - 1), np.clip(cols + ix + 1, 0, w - 1)
    top = (1 - fx) * valid[r0, c0] + fx * valid[r0, c1]
    bottom = (1 - fx) * valid[r1, c0] + fx * valid[r1, c1]
    return (1 - fy) * top + fy * bottom
