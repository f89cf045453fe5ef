"""Point-wise intensity maps with an exact lookup-table fast path for 8/16-bit images.

A point-wise map (gamma, brightness/contrast, a tone curve) only depends on the input
value, so for uint8/uint16/int16 images it is evaluated once per possible value and
applied with a table lookup. The table holds exactly what the float path would produce
after rounding and clipping (``domaug.dtypes.restore_dtype``), so both paths agree.
"""

from __future__ import annotations

from typing import Any, Callable, Mapping

import numpy as np

from ..dtypes import restore_dtype, to_float
from . import opencv

#: Images with more pixels than this use a lookup table (building one costs ~65k evaluations).
LUT_MIN_PIXELS = {1: 0, 2: 200_000}
#: numpy fallback for uint8 (no stringzilla/OpenCV): a pair table pays off from this size.
PAIR_MIN_PIXELS = 1 << 18


def pointwise(image: np.ndarray, fn: Callable[[np.ndarray], np.ndarray], meta: Mapping[str, Any] | None) -> np.ndarray:
    """Apply ``fn`` (float array → float array, elementwise) to ``image``.

    Integer images of 8 or 16 bits with enough pixels go through a lookup table and come
    back already in their dtype (rounded and clipped as :func:`restore_dtype` would);
    everything else returns ``fn(to_float(image))``.
    """
    dtype = image.dtype
    if dtype == np.uint8 and not meta and image.size >= LUT_MIN_PIXELS[1]:  # the common 8-bit case, lean
        values = np.asarray(fn(_domain(dtype).copy()), dtype=np.float32)
        np.rint(values, out=values)
        np.fmax(values, _ZERO, out=values)  # NaN → 0, as restore_dtype
        np.fmin(values, _MAX8, out=values)
        lut = values.astype(np.uint8)
        fast = opencv.lut8(image, lut)
        return np.take(lut, image) if fast is None else fast
    if dtype.kind in "ui" and dtype.itemsize <= 2 and image.size >= LUT_MIN_PIXELS[dtype.itemsize]:
        domain = _domain(dtype)
        lo = int(domain[0])
        lut = restore_dtype(np.asarray(fn(domain.copy()), dtype=np.float32), dtype, meta)
        if lo < 0:  # index signed values by their unsigned bit pattern
            lut = np.concatenate([lut[-lo:], lut[:-lo]])
            return np.take(lut, image.view(np.dtype(f"u{dtype.itemsize}")))
        if dtype.itemsize == 1:
            fast = opencv.lut8(image, lut)
            if fast is not None:
                return fast
            if image.flags.c_contiguous and image.size % 2 == 0 and image.size >= PAIR_MIN_PIXELS:
                return _take_pairs(lut, image)
        return np.take(lut, image)
    return fn(to_float(image))


def power_in_place(x: np.ndarray, gamma: float, zeros: bool = True) -> None:
    """``x **= gamma`` for x ≥ 0, gamma > 0. Where ``zeros`` may be present they are left
    out: 0**γ = 0 already, and ``powf`` takes a slow path at 0 (6× a normal value; black
    backgrounds, air around a patient). Small arrays (a lookup table's 256 values) skip
    the mask, which costs more than it saves there."""
    g = np.asarray(gamma, x.dtype)
    if zeros and x.size > 4096:
        np.power(x, g, out=x, where=x != 0)
    else:
        np.power(x, g, out=x)


_DOMAINS: dict[np.dtype, np.ndarray] = {}
_ZERO, _MAX8 = np.float32(0.0), np.float32(255.0)


def _domain(dtype: np.dtype) -> np.ndarray:
    """Every value of an 8/16-bit integer dtype, ascending, as float32 (cached, read-only)."""
    domain = _DOMAINS.get(dtype)
    if domain is None:
        info = np.iinfo(dtype)
        domain = np.arange(int(info.min), int(info.max) + 1, dtype=np.float32)
        domain.setflags(write=False)
        _DOMAINS[dtype] = domain
    return domain


def _take_pairs(lut: np.ndarray, image: np.ndarray) -> np.ndarray:
    """8-bit lookup two pixels at a time through a 65 536-entry uint16 table (2× fewer lookups).

    The pair table maps the uint16 formed by two adjacent bytes to the two looked-up
    bytes; built symmetrically, it is correct for either byte order.
    """
    pair = np.arange(65536, dtype=np.uint16)
    table = (lut[pair & 0xFF].astype(np.uint16) | (lut[pair >> 8].astype(np.uint16) << 8))
    flat = image.reshape(-1).view(np.uint16)
    return np.take(table, flat).view(lut.dtype).reshape(image.shape)
