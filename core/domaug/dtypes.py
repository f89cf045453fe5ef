"""Dtype-safe arithmetic: compute in float, come back to the input's dtype honestly.

Integer outputs are rounded half-to-even and clipped to the dtype's range, or to a
narrower declared range (``meta["valid_range"]`` or ``meta["bit_depth"]``, e.g. 12-bit
data stored in uint16). Nodata pixels are restored bit-exact and valid pixels are
kept off the nodata value.
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np


def _int_range(dtype: np.dtype) -> tuple[float, float]:
    info = np.iinfo(dtype)
    _INT_RANGE[dtype] = (float(info.min), float(info.max))
    return _INT_RANGE[dtype]


_INT_RANGE: dict[np.dtype, tuple[float, float]] = {}


def value_range(dtype: np.dtype, meta: Mapping[str, Any] | None = None) -> tuple[float, float]:
    """The range output values must stay in for ``dtype`` under ``meta``."""
    meta = meta or {}
    dtype = np.dtype(dtype)
    declared = meta.get("valid_range")
    if dtype.kind in "ui":
        lo, hi = _INT_RANGE.get(dtype) or _int_range(dtype)
        bit_depth = meta.get("bit_depth")
        if bit_depth and dtype.kind == "u":
            hi = min(hi, float(2 ** int(bit_depth) - 1))
        if declared is not None:
            lo, hi = max(lo, float(declared[0])), min(hi, float(declared[1]))
        return lo, hi
    if declared is not None:
        return float(declared[0]), float(declared[1])
    return -np.inf, np.inf


def full_scale(dtype: np.dtype, meta: Mapping[str, Any] | None = None) -> float:
    """The intensity meaning "white": dtype or bit-depth maximum for integers, 1.0 for floats.

    ``meta["full_scale"]`` overrides (e.g. 10000 for Sentinel-2 reflectance ×10⁴ in float).
    """
    if not meta:  # nothing declared: the dtype decides (cached)
        cached = _PLAIN_FULL_SCALE.get(dtype)
        if cached is None:
            cached = _PLAIN_FULL_SCALE[np.dtype(dtype)] = full_scale(dtype, {"full_scale": None})
        return cached
    if meta.get("full_scale") is not None:
        return float(meta["full_scale"])
    dtype = np.dtype(dtype)
    if dtype.kind in "ui":
        return value_range(dtype, meta)[1]
    declared = meta.get("valid_range")
    return float(declared[1]) if declared is not None else 1.0


_PLAIN_FULL_SCALE: dict[Any, float] = {}


def to_float(image: np.ndarray) -> np.ndarray:
    """A float working copy: float32 for everything but float64 input."""
    if image.dtype == np.float64:
        return image.astype(np.float64, copy=True)
    return image.astype(np.float32, copy=True)


def restore_dtype(result: np.ndarray, dtype: np.dtype, meta: Mapping[str, Any] | None = None) -> np.ndarray:
    """Round, clip and cast a float result back to ``dtype`` (in place where possible)."""
    dtype = np.dtype(dtype)
    lo, hi = value_range(dtype, meta)
    if dtype.kind in "ui":
        if result.dtype == dtype and (lo, hi) == (_INT_RANGE.get(dtype) or _int_range(dtype)):
            return result  # already in dtype, nothing narrower declared
        if result.dtype.kind != "f":
            return _restore_integer(result, dtype, lo, hi)
        # rint → clip → cast: three cheap passes. NaN survives clip and is sent to ``lo``
        # (as nan_to_num would, but nan_to_num costs 10× more); ±inf are clipped.
        np.rint(result, out=result)
        if result.size <= _SMALL:  # lookup tables: fmax/fmin clip and send NaN to ``lo`` in two calls
            np.fmax(result, result.dtype.type(lo), out=result)
            np.fmin(result, result.dtype.type(hi), out=result)
            return result.astype(dtype)
        np.clip(result, result.dtype.type(lo), result.dtype.type(hi), out=result)
        lowest = np.minimum.reduce(result, axis=None)  # NaN if any NaN
        if lowest != lowest:
            np.copyto(result, result.dtype.type(lo), where=np.isnan(result))
        return result.astype(dtype)
    if np.isfinite(lo) or np.isfinite(hi):
        np.clip(result, lo, hi, out=result)
    return result.astype(dtype, copy=False)


#: Up to this many elements (lookup tables) two ufunc calls beat ``np.clip``'s Python wrapper.
_SMALL = 4096


def _restore_integer(result: np.ndarray, dtype: np.dtype, lo: float, hi: float) -> np.ndarray:
    """Clip an integer (or bool) result to [lo, hi] with bounds of its own dtype, then cast."""
    if result.dtype == bool:
        result = result.astype(np.uint8)
    rlo, rhi = value_range(result.dtype)
    lo_i, hi_i = max(int(np.ceil(lo)), int(rlo)), min(int(np.floor(hi)), int(rhi))
    if lo_i > rlo or hi_i < rhi:  # typed bounds: no float64 round trip
        result = np.clip(result, result.dtype.type(lo_i), result.dtype.type(hi_i))
    return result.astype(dtype, copy=False)


def keep_invalid(result: np.ndarray, original: np.ndarray, valid: np.ndarray | None) -> np.ndarray:
    """Put the original values back where ``valid`` is False (bit-exact)."""
    if valid is None or valid.all():
        return result
    if result.ndim == valid.ndim + 1 and result.shape == original.shape and result.flags.c_contiguous \
            and original.flags.c_contiguous:
        # whole pixels through their flat indices: ~3× faster than a broadcast masked copy
        where = np.flatnonzero(~valid)
        bands = result.shape[-1]
        result.reshape(-1, bands)[where] = original.reshape(-1, bands)[where]
        return result
    invalid = ~valid
    if result.ndim == invalid.ndim + 1:
        invalid = invalid[..., None]
    np.copyto(result, original, where=np.broadcast_to(invalid, result.shape))
    return result


def avoid_nodata(result: np.ndarray, valid: np.ndarray | None, nodata: Any,
                 meta: Mapping[str, Any] | None = None) -> np.ndarray:
    """Nudge valid pixels that landed on the nodata value one step away from it, inwards.

    The step goes toward the inside of the declared range (``value_range``), so
    ``nodata=255`` on uint8 or ``nodata=4095`` on 12-bit data nudges down, never out of range.
    """
    if nodata is None:
        return result
    if result.dtype.kind in "ui":
        info = np.iinfo(result.dtype)
        if np.isnan(nodata) or not info.min <= nodata <= info.max:
            return result  # no integer pixel can equal it
        nodata = result.dtype.type(nodata)
    elif np.isnan(nodata):
        hit = np.isnan(result)
        if valid is not None:
            hit &= valid[..., None] if result.ndim == valid.ndim + 1 else valid
        result[hit] = 0
        return result
    hit = result == nodata
    if not hit.any():  # the usual case: no valid pixel landed on nodata (skip the mask work)
        return result
    if valid is not None:
        hit &= valid[..., None] if result.ndim == valid.ndim + 1 else valid
    if not hit.any():
        return result
    lo, hi = value_range(result.dtype, meta)
    if result.dtype.kind in "ui":
        step = 1 if int(nodata) < hi else -1
        result[hit] = int(nodata) + step
    else:
        toward = np.inf if float(nodata) < hi else -np.inf
        result[hit] = np.nextafter(result.dtype.type(nodata), result.dtype.type(toward))
    return result


def finish(result: np.ndarray, sample: Mapping[str, Any], valid: np.ndarray | None) -> np.ndarray:
    """Bring a float pixel result home: input dtype, nodata pixels restored, nodata avoided."""
    image = sample["image"]
    meta = sample.get("meta") or {}
    if valid is None and not meta and result.dtype == image.dtype and result is not image \
            and result.flags.writeable and image.dtype.kind != "f":
        return result  # already home: nothing declared, nothing to restore (the per-call fast path)
    out = restore_dtype(result, image.dtype, meta)
    if out is image or not out.flags.writeable:
        out = out.copy()
    out = keep_invalid(out, image, valid)
    return avoid_nodata(out, valid, meta.get("nodata"), meta)
