"""OpenCV (and stringzilla) fast paths, imported lazily; each has a numpy fallback.

OpenCV's SIMD kernels (flip, table lookup, separable and 2-D filtering, JPEG codec) are
5–100× faster than the equivalent numpy on 8/16-bit and float32 images. Every helper
here returns exactly what the numpy path returns (re-indexing is bit-exact; filters
differ only by float32 summation order, ≲1e-6 relative) and falls back to numpy for
what OpenCV cannot do (dtypes such as int64, more than 512 bytes per pixel, …).

OpenCV is never imported at ``import domaug`` time. ``DOMAUG_OPENCV=0`` disables it and
every other accelerator (to compare or debug the numpy paths). Its thread pool only
splits work by rows, so results do not depend on ``cv2.setNumThreads``; domaug only
changes that setting when ``DOMAUG_NUM_THREADS`` is set (e.g. 1 inside process-pool
workers that already fill the cores).
"""

from __future__ import annotations

import math
import os
from typing import Any, Callable

import numpy as np

_UNSET = object()
_cv2: Any = _UNSET
_disabled = False

#: OpenCV's maximum number of channels of a Mat (CV_CN_MAX).
MAX_CHANNELS = 512
#: Element sizes (bytes) cv2.flip reverses fast (measured; others go through numpy void items).
_FLIP_SIZES = frozenset({1, 2, 3, 4, 6, 8, 12, 16})
#: Element sizes (bytes) cv2.transpose / cv2.rotate support.
_TRANSPOSE_SIZES = frozenset({1, 2, 3, 4, 6, 8, 12, 16, 24, 32})
#: numpy dtype → OpenCV depth, for the dtypes whose filters we rely on.
_DEPTHS = {np.dtype(t): d for t, d in ((np.uint8, 0), (np.uint16, 2), (np.int16, 3), (np.float32, 5), (np.float64, 6))}


def cv2_module() -> Any | None:
    """The ``cv2`` module, or None when it is not installed or disabled by DOMAUG_OPENCV=0."""
    global _cv2, _disabled
    if _cv2 is _UNSET:
        if _disabled or os.environ.get("DOMAUG_OPENCV", "1").strip().lower() in ("0", "false", "no", "off"):
            _disabled = True
            _cv2 = None
        else:
            try:
                import cv2
            except ImportError:
                _cv2 = None
            else:
                threads = os.environ.get("DOMAUG_NUM_THREADS", "").strip()
                if threads.isdigit() and int(threads) > 0:  # e.g. 1 in process-pool workers
                    cv2.setNumThreads(int(threads))
                _cv2 = cv2
    return _cv2


def set_enabled(enabled: bool) -> None:
    """Turn the OpenCV paths on or off for this process (tests compare both paths)."""
    global _cv2, _disabled
    _disabled = not enabled
    _cv2 = _UNSET if enabled else None
    if enabled:
        cv2_module()


def flip(array: np.ndarray, axis: int) -> np.ndarray:
    """A C-contiguous copy of ``array`` reversed along ``axis`` (any dtype, bit-exact).

    The array is viewed as (outer, n_axis) elements of ``inner`` bytes (everything after
    ``axis``): ``cv2.flip`` reverses element sizes it has fast kernels for, other sizes are
    reversed by numpy as opaque ``void`` items (2–5× faster than a strided copy).
    """
    shape = array.shape
    axis = axis % len(shape)
    inner = math.prod(shape[axis + 1:]) * array.itemsize
    if array.flags.c_contiguous and array.size and inner <= 4096:
        outer = math.prod(shape[:axis])
        cv2 = (_cv2 if _cv2 is not _UNSET else cv2_module()) if inner in _FLIP_SIZES else None
        if cv2 is not None and outer < 2**31 and shape[axis] < 2**31:
            rows = array.reshape(outer, shape[axis], -1) if array.dtype == np.uint8 else \
                array.reshape(-1).view(np.uint8).reshape(outer, shape[axis], inner)
            out = cv2.flip(rows, 1)
        else:
            items = array.reshape(-1).view(np.dtype((np.void, inner))).reshape(outer, shape[axis])
            out = np.ascontiguousarray(items[:, ::-1])
        if out.dtype == array.dtype:
            return out.reshape(shape)
        return out.reshape(-1).view(array.dtype).reshape(shape)
    index = [slice(None)] * len(shape)
    index[axis] = slice(None, None, -1)
    return np.ascontiguousarray(array[tuple(index)])


def rot90(array: np.ndarray, k: int, axes: tuple[int, int]) -> np.ndarray:
    """A C-contiguous copy of ``np.rot90(array, k, axes)`` for adjacent axes (a, a+1)."""
    k %= 4
    a0, a1 = axes
    cv2 = cv2_module()
    if k == 0:
        return np.array(array, copy=True, order="C")
    if cv2 is not None and array.size and array.flags.c_contiguous and a1 == a0 + 1:
        outer = math.prod(array.shape[:a0])
        inner = math.prod(array.shape[a1 + 1:]) * array.itemsize
        h, w = array.shape[a0], array.shape[a1]
        if inner in _TRANSPOSE_SIZES and max(h, w) < 2**31:
            code = {1: cv2.ROTATE_90_COUNTERCLOCKWISE, 2: cv2.ROTATE_180, 3: cv2.ROTATE_90_CLOCKWISE}[k]
            src = array.reshape(-1).view(np.uint8).reshape(outer, h, w, inner)
            out_hw = (h, w) if k == 2 else (w, h)
            out = np.empty((outer,) + out_hw + (inner,), dtype=np.uint8)
            for i in range(outer):
                out[i] = cv2.rotate(src[i], code).reshape(out_hw + (inner,))
            shape = list(array.shape)
            shape[a0], shape[a1] = out_hw
            return out.reshape(-1).view(array.dtype).reshape(shape)
    return np.ascontiguousarray(np.rot90(array, k, axes=axes))


def _stringzilla() -> Any | None:
    global _sz
    if _sz is _UNSET:
        try:
            import stringzilla
        except ImportError:
            _sz = None
        else:
            _sz = stringzilla if hasattr(stringzilla, "translate") else None
    return _sz


_sz: Any = _UNSET


def lut8(image: np.ndarray, table: np.ndarray, out: np.ndarray | None = None) -> np.ndarray | None:
    """``table[image]`` for a C-contiguous uint8 image and a 256-entry uint8 table, or None.

    Uses stringzilla's SIMD byte translation when installed (``domaug[fast]``; at memcpy
    speed), else ``cv2.LUT``; None when neither is available (caller falls back to numpy).
    ``out`` (C-contiguous uint8, the image's shape; may be ``image`` itself) receives the
    result instead of a new array.
    """
    if not (image.size and image.flags.c_contiguous and image.dtype == np.uint8):
        return None
    if out is not None:
        _check_lut_out(image, out)
    if not (table.dtype == np.uint8 and table.flags.c_contiguous):
        table = np.ascontiguousarray(table, dtype=np.uint8)
    sz = _stringzilla() if not _disabled else None
    if sz is not None:
        return _lut8_stringzilla(sz, image, table, out)
    cv2 = cv2_module()
    if cv2 is not None and image.size < 2**31:
        return _lut8_cv(cv2, image, table, out)
    return None


def _check_lut_out(image: np.ndarray, out: np.ndarray) -> None:
    if not (out.flags.c_contiguous and out.dtype == np.uint8 and out.shape == image.shape):
        raise ValueError("lut8: out must be a C-contiguous uint8 array of the image's shape")


def _lut8_stringzilla(sz: Any, image: np.ndarray, table: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """Byte translation with stringzilla (into ``out``, which may be ``image``)."""
    if out is None:
        out = np.empty_like(image)
    try:
        if out is image:
            sz.translate(memoryview(out.reshape(-1)), memoryview(table), inplace=True)
        else:
            sz.translate(memoryview(image.reshape(-1)), memoryview(table), out=memoryview(out.reshape(-1)))
    except TypeError:  # stringzilla < 4 has no out=: translate a copy in place
        if out is not image:
            np.copyto(out, image)
        sz.translate(memoryview(out.reshape(-1)), memoryview(table), inplace=True)
    return out


def _lut8_cv(cv2: Any, image: np.ndarray, table: np.ndarray, out: np.ndarray | None) -> np.ndarray:
    """``cv2.LUT`` over the image as one row (into ``out`` when given)."""
    if out is None:
        return cv2.LUT(image.reshape(1, -1), table).reshape(image.shape)
    cv2.LUT(image.reshape(1, -1), table, dst=out.reshape(1, -1))
    return out


def depth_of(dtype: np.dtype) -> int | None:
    """OpenCV depth code of a numpy dtype, or None when OpenCV filters do not take it."""
    return _DEPTHS.get(dtype if isinstance(dtype, np.dtype) else np.dtype(dtype))


def filter_planes(fn: Callable[[np.ndarray], np.ndarray], src: np.ndarray, spatial_ndim: int,
                  dtype: Any) -> np.ndarray:
    """Run a 2-D OpenCV filter ``fn`` (H×W×C in, H×W×C out) on an image with 2 or 3 spatial axes.

    Channels (any trailing axes) go to OpenCV as one plane of C channels; a volume is
    filtered slice by slice into a new ``dtype`` array (in-plane filtering only).
    """
    src = np.ascontiguousarray(src)
    shape = src.shape
    plane = shape[spatial_ndim - 2:spatial_ndim] + (math.prod(shape[spatial_ndim:]),)
    if spatial_ndim == 2:
        return fn(src.reshape(plane)).reshape(shape)
    out = np.empty(shape, dtype=dtype)
    for k in range(shape[0]):
        out[k] = fn(src[k].reshape(plane)).reshape(shape[1:])
    return out


def mean(image: np.ndarray) -> float:
    """Mean of all elements in float64 (exact sum for 8/16-bit integers, as numpy's)."""
    cv2 = cv2_module()
    if (cv2 is not None and image.size and image.size < 2**31 and image.flags.c_contiguous
            and depth_of(image.dtype) is not None):
        return float(cv2.sumElems(image.reshape(1, -1))[0]) / image.size
    return float(np.mean(image, dtype=np.float64))
