"""OpenCV building blocks of :mod:`domaug.ops.resample` (private; cv2 imported lazily).

Every function here works in the array's own dtype, all bands at once (groups of <= 4
channels per OpenCV call) and volumes slice by slice; :mod:`domaug.ops.resample`
decides when they apply and keeps the scipy reference paths.
"""

from __future__ import annotations

import math
from typing import Any, NamedTuple, Sequence

import numpy as np

from ..dtypes import restore_dtype
from .opencv import cv2_module

#: dtypes OpenCV's warpAffine / remap / resize / sepFilter2D take natively.
_CV_DTYPES = frozenset(np.dtype(t) for t in (np.uint8, np.uint16, np.int16, np.float32, np.float64))
#: dtypes whose *linear* interpolation may use OpenCV's 1/32-pixel position grid (error
#: < 1/64 px; what every OpenCV-based library does). Affine/Resize also take float32 this
#: way; dense coordinate maps (elastic) keep scipy's exact positions for floats, float64
#: always does.
_CV_LINEAR_DTYPES = frozenset(np.dtype(t) for t in (np.uint8, np.uint16, np.int16))
CV_MAX_SIDE = 32000  # OpenCV's fixed-point maps hold coordinates in int16


def cv_dtype_ok(dtype: np.dtype, order: int, exact: bool = False) -> bool:
    """OpenCV can resample ``dtype`` at ``order``; ``exact``: float positions must not be quantised."""
    if order == 0:
        return dtype in _CV_DTYPES or dtype == np.bool_ or (dtype.kind in "ui" and dtype.itemsize in (1, 2, 4))
    return order == 1 and (dtype in _CV_LINEAR_DTYPES or (dtype == np.float32 and not exact))


def cv_size_ok(array: np.ndarray, spatial_ndim: int, out_plane: Sequence[int]) -> bool:
    """Each OpenCV call (one plane, <= 4 channels) stays below 2 GiB in and out."""
    ch = 1 if array.ndim == spatial_ndim else min(4, math.prod(array.shape[spatial_ndim:]))
    plane_in = math.prod(array.shape[spatial_ndim - 2:spatial_ndim])
    plane_out = math.prod(out_plane)
    return max(plane_in + 4 * array.shape[spatial_ndim - 1], plane_out) * ch * array.itemsize < 2**31 - 1


def _cv_view(array: np.ndarray, order: int) -> np.ndarray:
    """A dtype OpenCV takes with the same bits (nearest neighbour only copies pixels)."""
    if array.dtype in _CV_DTYPES:
        return array
    if array.dtype == np.bool_ or (array.dtype.kind in "ui" and array.itemsize == 1):
        return array.view(np.uint8)
    if array.dtype.kind in "ui" and array.itemsize == 2:
        return array.view(np.uint16)
    if order == 0 and array.dtype.kind in "ui" and array.itemsize == 4:
        return array.view(np.float32)  # bit-copied, never computed on
    raise TypeError(array.dtype)


def cv_channels(array: np.ndarray, spatial_ndim: int, fn) -> np.ndarray:
    """Apply a 2-D OpenCV call to every slice (3-D) and every group of <= 4 channels."""
    cv_in = _cv_view(np.ascontiguousarray(array), 0)
    if spatial_ndim == 3:
        parts = [cv_channels(cv_in[z], 2, fn) for z in range(cv_in.shape[0])]
        out = np.stack(parts) if parts else np.empty((0,), cv_in.dtype)
        return out.view(array.dtype) if out.dtype != array.dtype else out
    if cv_in.ndim == 2:
        out = fn(cv_in)
    else:
        nch = cv_in.shape[2]
        if nch <= 4:
            out = fn(cv_in)
            if out.ndim == 2:
                out = out[..., None]
        else:
            out = np.concatenate([np.atleast_3d(fn(np.ascontiguousarray(cv_in[..., c:c + 4])))
                                  for c in range(0, nch, 4)], axis=2)
    return out.view(array.dtype) if out.dtype != array.dtype else out


def _gaussian_kernel(sigma: float, truncate: float = 3.0) -> np.ndarray:
    """scipy.ndimage's 1-D Gaussian kernel (same radius rule) as an OpenCV column vector."""
    radius = int(truncate * float(sigma) + 0.5)
    x = np.arange(-radius, radius + 1, dtype=np.float64)
    phi = np.exp(-0.5 / (sigma * sigma) * x**2) if sigma > 0 else (x == 0).astype(np.float64)
    return (phi / phi.sum()).reshape(-1, 1)


def cv_blur(cv2: Any, array: np.ndarray, spatial_ndim: int, sigma: Sequence[float]) -> np.ndarray:
    """The antialiasing Gaussian prefilter in-plane (``sepFilter2D``, edges replicated as scipy's
    ``mode="nearest"``); ``array`` itself when both kernels have a single tap (the identity)."""
    if not any(int(3.0 * s + 0.5) > 0 for s in sigma[-2:]):
        return array
    ky, kx = _gaussian_kernel(sigma[-2]), _gaussian_kernel(sigma[-1])
    return cv_channels(array, spatial_ndim, lambda a: cv2.sepFilter2D(a, -1, kx, ky, borderType=cv2.BORDER_REPLICATE))


def fill_where(out: np.ndarray, where: np.ndarray, value: Any) -> None:
    """``out[where] = value`` for a spatial boolean map (channels last), in place."""
    cv2 = cv2_module()
    spatial = where.ndim
    if (cv2 is not None and spatial in (2, 3) and out.dtype in _CV_DTYPES and out.flags.c_contiguous
            and (out.ndim == spatial or out.shape[-1] <= 4) and 4096 <= out.size < 2**31
            and min(where.shape[-2:]) >= 8):  # (OpenCV reads a scalar tuple as a matrix for tiny arrays)
        planes = [(out, where)] if spatial == 2 else list(zip(out, where))
        for o, m in planes:
            mask = m.view(np.uint8)
            # masked ops leave unmasked pixels alone: zero the bits, then add the value (exact)
            cv2.bitwise_and(o, (0, 0, 0, 0), dst=o, mask=mask)
            if value != 0:
                cv2.add(o, (float(value),) * 4, dst=o, mask=mask)
        return
    out[where] = value


def sample_volume(cv2: Any, coords: np.ndarray, in_shape: Sequence[int], out_shape: Sequence[int],
                  array: np.ndarray, order: int) -> np.ndarray | None:
    """Trilinear (or nearest) sampling of a volume as 2-D remaps of stacked slices.

    With edge replication, sampling at a coordinate equals sampling at the coordinate
    clipped to ``[0, n - 1]``, so slices can be stacked into one tall 2-D image
    without bleeding into each other. Each voxel samples slice pair ``(z0, z0 + 1)``
    (two channels of one image) bilinearly in-plane with one ``cv2.remap`` (positions
    on OpenCV's 1/32-pixel grid), then mixes the pair linearly in z (exact). Output
    slices go in chunks so the stacked image stays small (and inside int16 rows).
    """
    if not _volume_ok(array, order, in_shape):
        return None
    in_shape, out_shape = tuple(in_shape), tuple(out_shape)
    work_dtype = array.dtype if order == 0 else (np.float64 if array.dtype == np.float64 else np.float32)
    out = np.empty(out_shape + array.shape[3:], dtype=array.dtype)
    n_out = out_shape[0]
    # ~256k voxels per chunk: the chunk's temporaries stay a small fraction of the volume
    chunk = max(1, min(n_out, (1 << 18) // max(1, out_shape[1] * out_shape[2])))
    channels = [array] if array.ndim == 3 else [array[..., c] for c in range(array.shape[3])]
    for s0 in range(0, n_out, chunk):
        sl = slice(s0, min(n_out, s0 + chunk))
        where = _slice_pairs(cv2, coords[:, sl], in_shape, order, work_dtype)
        if where is None:
            return None
        for k, ch in enumerate(channels):
            if order == 0:
                res = _remap_nearest(cv2, ch, where, in_shape, array.dtype)
            else:
                res = _remap_linear(cv2, ch, where, in_shape, work_dtype, array.dtype)
            if array.ndim == 3:
                out[sl] = res
            else:
                out[sl, ..., k] = res
    return out


def _volume_ok(array: np.ndarray, order: int, in_shape: Sequence[int]) -> bool:
    """:func:`sample_volume` takes this: order 0/1, a dtype OpenCV remaps, rows and columns in int16."""
    if order not in (0, 1) or not (array.dtype in _CV_DTYPES or cv_dtype_ok(array.dtype, 0)):
        return False
    if order == 0 and not cv_dtype_ok(array.dtype, 0):
        return False
    d, h, w = tuple(in_shape)
    return max(h, w) < CV_MAX_SIDE and array.ndim in (3, 4)


class _SlicePairs(NamedTuple):
    """Where a chunk of output slices samples the input slices ``lo..hi`` stacked as one tall image."""

    maps: tuple  #: cv2.remap tables (x = column, y = row in the stack)
    lo: int
    hi: int
    fz: np.ndarray | None  #: linear: each voxel's weight of slice ``z0 + 1`` (None: nearest)
    shape: tuple  #: the chunk's output shape


def _slice_pairs(cv2: Any, c: np.ndarray, in_shape: tuple, order: int, work_dtype: Any) -> _SlicePairs | None:
    """Remap tables of one chunk's coordinates ``c`` (edges clipped), or None when the stack of
    slices it reads is too tall for OpenCV's int16 rows."""
    d, h, w = in_shape
    z = np.clip(c[0], 0, d - 1)
    y = np.clip(c[1], 0, h - 1).astype(np.float32, copy=False)
    x = np.clip(c[2], 0, w - 1).astype(np.float32, copy=False)
    if order == 0:
        z0 = np.floor(z + 0.5)
    else:
        z0 = np.minimum(np.floor(z), max(d - 2, 0))
    lo, hi = int(z0.min()), int(z0.max())
    if (hi - lo + 1) * h >= CV_MAX_SIDE:
        return None
    rows = ((z0 - lo) * h + y).reshape(-1, x.shape[-1]).astype(np.float32, copy=False)
    xs = np.ascontiguousarray(x.reshape(-1, x.shape[-1]))
    if order == 0:
        return _SlicePairs((xs, rows), lo, hi, None, z.shape)
    fz = (z - z0).astype(work_dtype, copy=False)
    return _SlicePairs(cv2.convertMaps(xs, rows, cv2.CV_16SC2), lo, hi, fz, z.shape)


def _remap_nearest(cv2: Any, ch: np.ndarray, where: _SlicePairs, in_shape: tuple, dtype: np.dtype) -> np.ndarray:
    """Nearest-neighbour voxels of one channel (bits copied: any 1/2/4-byte dtype)."""
    w = in_shape[2]
    src = _cv_view(np.ascontiguousarray(ch[where.lo:where.hi + 1]), 0).reshape(-1, w)
    res = cv2.remap(src, where.maps[0], where.maps[1], cv2.INTER_NEAREST, borderMode=cv2.BORDER_REPLICATE)
    return res.view(dtype).reshape(where.shape)


def _remap_linear(cv2: Any, ch: np.ndarray, where: _SlicePairs, in_shape: tuple, work_dtype: Any,
                  dtype: np.dtype) -> np.ndarray:
    """Trilinear voxels of one channel: bilinear in both slices of each pair, then linear in z."""
    d, h, w = in_shape
    lo, hi = where.lo, where.hi
    top = min(hi + 1, d - 1)
    pair = np.empty((hi - lo + 1, h, w, 2), dtype=work_dtype)
    pair[..., 0] = ch[lo:hi + 1]
    pair[:-1, ..., 1] = ch[lo + 1:hi + 1]
    pair[-1, ..., 1] = ch[top]
    ab = cv2.remap(pair.reshape(-1, w, 2), where.maps[0], where.maps[1], cv2.INTER_LINEAR,
                   borderMode=cv2.BORDER_REPLICATE).reshape(where.shape + (2,))
    a, b = ab[..., 0], ab[..., 1]
    res = a + where.fz * (b - a)
    if dtype.kind in "uib":
        res = restore_dtype(res, dtype)
    return res
