"""Counter-based random numbers keyed by absolute pixel coordinates (window-consistent).

``pixel_normals(seed, shape, offset)`` gives the same value for a pixel whether the
raster is processed whole or in windows (``offset`` = absolute (row0, col0)), which a
sequential generator cannot. splitmix64 hashing of (seed, row, col, band), then
Box–Muller on the two 32-bit halves.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_G = np.uint64(0x9E3779B97F4A7C15)
_KEYS = (0xD1B54A32D192ED03, 0xABC98388FB8FAC03, 0x8CB92BA72F3D8DD7)


def _mix(h: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        h = (h ^ (h >> np.uint64(30))) * _M1
        h = (h ^ (h >> np.uint64(27))) * _M2
    return h ^ (h >> np.uint64(31))


def _axis_code(start: int, n: int, axis: int) -> np.ndarray:
    idx = np.arange(start, start + n, dtype=np.int64).view(np.uint64)
    with np.errstate(over="ignore"):
        return _mix(idx * np.uint64(_KEYS[axis % 3]) + np.uint64(axis + 1) * _G)


def pixel_hash(seed: int, shape: Sequence[int], offset: Sequence[int] | None = None) -> np.ndarray:
    """A uint64 hash per element of ``shape`` (up to 3 axes) at absolute ``offset``."""
    shape = tuple(int(s) for s in shape)
    offset = tuple(int(o) for o in (offset or (0,) * len(shape)))
    offset = offset + (0,) * (len(shape) - len(offset))
    h = np.full(shape, np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF), dtype=np.uint64)
    for axis, (n, o) in enumerate(zip(shape, offset)):
        code = _axis_code(o, n, axis).reshape([n if a == axis else 1 for a in range(len(shape))])
        with np.errstate(over="ignore"):
            h = h ^ code
            h = h + _G
    return _mix(h)


def pixel_uniform(seed: int, shape: Sequence[int], offset: Sequence[int] | None = None) -> np.ndarray:
    """Uniform [0, 1) float64 per element, keyed by absolute coordinates."""
    h = pixel_hash(seed, shape, offset)
    return (h >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def pixel_normals(seed: int, shape: Sequence[int], offset: Sequence[int] | None = None,
                  dtype=np.float32) -> np.ndarray:
    """Standard normal per element, keyed by absolute coordinates.

    Box–Muller on the two 32-bit halves of one hash gives two normals (cos and sin
    branches) for each pair of positions along the last axis.
    """
    shape = tuple(int(s) for s in shape)
    offset = tuple(int(o) for o in (offset or (0,) * len(shape)))
    offset = offset + (0,) * (len(shape) - len(offset))
    last, start = shape[-1], offset[-1]
    lo = start // 2
    pairs = (start + last + 1) // 2 - lo
    h = pixel_hash(seed, shape[:-1] + (pairs,), offset[:-1] + (lo,))
    u1 = ((h >> np.uint64(32)).astype(np.float32) + np.float32(0.5)) * np.float32(1.0 / 4294967296.0)
    u2 = (h & np.uint64(0xFFFFFFFF)).astype(np.float32) * np.float32(2.0 * np.pi / 4294967296.0)
    r = np.sqrt(np.float32(-2.0) * np.log(u1))
    both = np.empty(shape[:-1] + (2 * pairs,), dtype=np.float32)
    both[..., 0::2] = r * np.cos(u2)
    both[..., 1::2] = r * np.sin(u2)
    first = start - 2 * lo
    return both[..., first:first + last].astype(dtype, copy=False)
