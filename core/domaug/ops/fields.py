"""Random fields on absolute pixel coordinates: fractal gradient noise and smooth Gaussian fields.

Every field here is a pure function of ``(seed, absolute pixel coordinate)``: the random
values live on a lattice whose points are hashed from the seed and their integer
lattice index, so

* a window evaluated with ``offset=(row0, col0)`` equals the same pixels of the full
  image **bit for bit** (tiles of a huge GeoTIFF or a dask chunk agree at their seams);
* with ``period=(P_rows, P_cols)`` the lattice indices wrap, so the field tiles
  seamlessly (value at ``r`` equals value at ``r + P``).

Evaluation is separable: the lattice is contracted one axis at a time with a few-tap
weight per output coordinate (elementwise numpy only, no BLAS, so no summation-order
differences between a window and the full array).

Models: Perlin gradient noise with the quintic fade (Perlin, "Improving Noise",
SIGGRAPH 2002), summed over octaves as fractional Brownian motion (Musgrave et al.,
*Texturing and Modeling*, 2003); the smooth field is white Gaussian noise on a coarse
lattice interpolated with the cubic B-spline, whose autocorrelation is close to a
Gaussian.
"""

from __future__ import annotations

import math
from typing import Any, Sequence

import numpy as np

_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)
_AXIS_KEYS = (0x632BE59BD9B4E019, 0x8CB92BA72F3D8DD7, 0xD6E8FEB86659FD93, 0xA0761D6478BD642F)

#: Theoretical std of one octave of Perlin noise with isotropic unit gradients and the
#: quintic fade, sqrt(E_f Σ_corners w² |d|² / ndim) integrated over the cell (checked
#: against 4·10⁶-pixel realisations); a fixed factor, so that windows agree.
_PERLIN_STD = {1: 0.243690, 2: 0.215711, 3: 0.190944}


def _mix(h: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser (wrapping uint64 arithmetic)."""
    h = (h ^ (h >> np.uint64(30))) * _M1
    h = (h ^ (h >> np.uint64(27))) * _M2
    return h ^ (h >> np.uint64(31))


def _lattice_hash(key: int, indices: Sequence[np.ndarray]) -> np.ndarray:
    """A uint64 hash for every point of the lattice spanned by per-axis integer ``indices``."""
    ndim = len(indices)
    h = np.full(tuple(len(i) for i in indices), np.uint64(key), dtype=np.uint64)
    with np.errstate(over="ignore"):
        for axis, idx in enumerate(indices):
            shape = [1] * ndim
            shape[axis] = len(idx)
            coded = (idx.astype(np.int64).view(np.uint64) * np.uint64(_AXIS_KEYS[axis % 4]))
            h = _mix(h ^ coded.reshape(shape) ^ np.uint64(axis + 1) * _GOLDEN)
    return h


def _uniform(h: np.ndarray, stream: int) -> np.ndarray:
    """A uniform in [0, 1) from hash ``h`` and a small stream number."""
    with np.errstate(over="ignore"):
        g = _mix(h ^ (np.uint64(stream + 1) * _GOLDEN))
    return (g >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def _seed_key(seed: int, salt: int) -> int:
    with np.errstate(over="ignore"):
        a = np.array([int(seed) & 0xFFFFFFFFFFFFFFFF], dtype=np.uint64)
        return int(_mix(_mix(a ^ np.uint64(salt & 0xFFFFFFFFFFFFFFFF)) + _GOLDEN)[0])


def _as_tuple(value, ndim: int, name: str) -> tuple:
    if value is None:
        return (None,) * ndim
    if np.isscalar(value):
        return (value,) * ndim
    value = tuple(value)
    if len(value) != ndim:
        raise ValueError(f"{name} needs {ndim} entries (one per spatial axis), got {value!r}")
    return value


def _contract(lattice: np.ndarray, specs: Sequence[tuple[np.ndarray, Sequence[np.ndarray]]]) -> np.ndarray:
    """Separable interpolation: for each axis, out = Σ_t w_t(x) · lattice[rel(x) + t].

    ``specs[axis] = (rel, [w_0, ..., w_{K-1}])`` with ``rel`` the index of the first tap
    (relative to the lattice start) for each output coordinate along that axis.
    Axes are contracted last-first; the operation order is identical for any window.
    """
    out = lattice
    for axis in range(lattice.ndim - 1, -1, -1):
        rel, weights = specs[axis]
        out = _contract_axis(out, axis, rel, weights)
    return out


#: 2-D gradients are unit vectors at angles (k + ½)·2π / 2^_DIRECTION_BITS
_DIRECTION_BITS = 12
_DIRECTION_TABLE: tuple[np.ndarray, np.ndarray] | None = None


def _directions() -> tuple[np.ndarray, np.ndarray]:
    global _DIRECTION_TABLE
    if _DIRECTION_TABLE is None:
        phi = (np.arange(1 << _DIRECTION_BITS, dtype=np.float64) + 0.5) * (2.0 * np.pi / (1 << _DIRECTION_BITS))
        _DIRECTION_TABLE = (np.cos(phi), np.sin(phi))
    return _DIRECTION_TABLE


def _fade(t: np.ndarray) -> np.ndarray:
    return t * t * t * (t * (t * 6.0 - 15.0) + 10.0)


def _gradients(key: int, indices: Sequence[np.ndarray]) -> list[np.ndarray]:
    """Unit gradient vectors (one component array per axis) on the lattice."""
    h = _lattice_hash(key, indices)
    ndim = len(indices)
    if ndim == 1:
        return [np.where(_uniform(h, 0) < 0.5, -1.0, 1.0)]
    if ndim == 2:  # the angle 2π·u of stream 0 rounded to one of 4096 directions (a table lookup)
        with np.errstate(over="ignore"):
            g = _mix(h ^ _GOLDEN)  # = the bits of _uniform(h, 0)
        k = (g >> np.uint64(64 - _DIRECTION_BITS)).astype(np.intp)
        cos, sin = _directions()
        return [cos[k], sin[k]]
    if ndim == 3:
        z = 2.0 * _uniform(h, 0) - 1.0
        phi = 2.0 * np.pi * _uniform(h, 1)
        r = np.sqrt(np.maximum(0.0, 1.0 - z * z))
        return [z, r * np.cos(phi), r * np.sin(phi)]
    raise ValueError(f"fields support 1-D to 3-D shapes, got {ndim}-D")


def _axis_coords(n: int, start: int, cell: float, shift: float, period: float | None):
    """Lattice index, fractional position and lattice range along one axis."""
    coord = np.arange(start, start + n, dtype=np.float64) + 0.5 + shift
    if period is not None:
        coord = np.mod(coord, period)
    u = coord / cell
    i = np.floor(u)
    f = u - i
    i = i.astype(np.int64)
    lo, hi = int(i.min()), int(i.max()) + 1
    idx = np.arange(lo, hi + 1, dtype=np.int64)
    if period is not None:
        idx = np.mod(idx, int(round(period / cell)))
    return i - lo, f, idx


def _octave_lattice(shape, offset, cell, key, period) -> tuple[list, list]:
    """One octave's lattice: per axis (cell index relative to the window, fraction within
    the cell, lattice indices) after the octave's random shift, and the gradients there."""
    ndim = len(shape)
    rng_shift = _uniform(_lattice_hash(key, [np.arange(ndim)]), 7)
    axes = []
    for ax in range(ndim):
        shift = float(rng_shift[ax]) * cell[ax]
        axes.append(_axis_coords(shape[ax], offset[ax], cell[ax], shift, period[ax]))
    return axes, _gradients(key, [a[2] for a in axes])


def _perlin_octave(shape, offset, cell, key, period, dtype) -> np.ndarray:
    ndim = len(shape)
    axes, grads = _octave_lattice(shape, offset, cell, key, period)
    fades = [_fade(a[1]) for a in axes]
    total = None
    for k in range(ndim):  # gradient component k pairs with the offset along axis k
        specs = []
        for ax, (rel, f, _) in enumerate(axes):
            s = fades[ax]
            w0, w1 = 1.0 - s, s
            if ax == k:
                w0, w1 = w0 * f, w1 * (f - 1.0)
            specs.append((rel, [w0.astype(dtype), w1.astype(dtype)]))
        term = _contract(grads[k].astype(dtype), specs)
        total = term if total is None else np.add(total, term, out=total)
    return total


def _field_args(who: str, shape: Sequence[int], size_px: Any, size_name: str,
                offset: Sequence[int] | int | None) -> tuple[tuple[int, ...], int, tuple[float, ...], tuple[int, ...]]:
    """Checked (shape, ndim, per-axis feature size, per-axis offset) of a field builder's call."""
    shape = tuple(int(v) for v in shape)
    ndim = len(shape)
    if ndim not in (1, 2, 3):
        raise ValueError(f"{who} supports 1-D to 3-D shapes, got {shape}")
    sizes = tuple(float(v) for v in _as_tuple(size_px, ndim, size_name))
    if any(not v > 0 for v in sizes):
        raise ValueError(f"{size_name} must be > 0, got {size_px!r}")
    offsets = tuple(int(o) for o in _as_tuple(offset if offset is not None else 0, ndim, "offset"))
    return shape, ndim, sizes, offsets


def fractal_noise(
    shape: Sequence[int],
    *,
    seed: int,
    scale_px: float | Sequence[float],
    octaves: int = 4,
    persistence: float = 0.5,
    lacunarity: float = 2.0,
    offset: Sequence[int] | None = None,
    period: float | Sequence[float] | None = None,
) -> np.ndarray:
    """Multi-octave Perlin gradient noise, float32, zero mean, about unit std.

    Parameters
    ----------
    shape : 1-, 2- or 3-tuple of ints
        Output shape (spatial axes only).
    seed : int
        Lattice seed; same seed, same field.
    scale_px : float or per-axis floats
        Lattice cell size of the first (coarsest) octave, in pixels: features are about
        this large.
    octaves, persistence, lacunarity
        Octave ``o`` has cell ``scale_px / lacunarity**o`` and amplitude
        ``persistence**o``. Octaves whose cell is below 1 px are skipped (they would only
        alias); the normalisation accounts for that without looking at the values.
    offset : ints, optional
        Absolute pixel coordinate of the window's first pixel (default origin): the
        result equals ``fractal_noise(full_shape, ...)[r0:r0+h, c0:c0+w]`` exactly.
    period : float or per-axis floats, optional
        Tile period in pixels; each octave's cell is adjusted to fit an integer number
        of cells per period so the field wraps seamlessly.

    The std is normalised by a fixed theoretical factor (not the sample's own std) so
    that windows agree; a given realisation deviates from 1 by a few per cent when
    ``scale_px`` is not much smaller than the shape.
    """
    shape, ndim, scale, offset = _field_args("fractal_noise", shape, scale_px, "scale_px", offset)
    periods = _as_tuple(period, ndim, "period")
    if int(octaves) < 1:
        raise ValueError(f"octaves must be >= 1, got {octaves!r}")
    cells, amps = _octaves(scale, int(octaves), persistence, lacunarity, periods)
    norm = sum(a * a for a in amps)
    if ndim == 2 and all(shape):
        total = _fractal_2d(shape, offset, cells, amps, seed, periods)
    else:
        total = np.zeros(shape, dtype=np.float32)
        for o, (cell, amp) in enumerate(zip(cells, amps)):
            octave = _perlin_octave(shape, offset, cell, _seed_key(seed, o + 1), periods, np.float32)
            if amp != 1.0:
                octave *= np.float32(amp)
            total += octave
    total *= np.float32(1.0 / (_PERLIN_STD[ndim] * math.sqrt(norm)))
    return total


def _octaves(scale: Sequence[float], octaves: int, persistence: float, lacunarity: float,
             periods: Sequence[float | None]) -> tuple[list[list[float]], list[float]]:
    """Cell size per axis and amplitude of each octave, coarsest first; octaves finer than
    1 px are dropped, cells fitted to a whole number per ``period`` where one is given."""
    cells, amps = [], []
    for o in range(octaves):
        cell = [s / lacunarity**o for s in scale]
        if o > 0 and min(cell) < 1.0:
            break
        if any(p is not None for p in periods):
            cell = [c if p is None else float(p) / max(1, round(float(p) / c)) for c, p in zip(cell, periods)]
        cells.append(cell)
        amps.append(persistence**o)
    return cells, amps


#: values per row block of the 2-D path (256 KiB of float32: block and term stay in L2)
_BLOCK_VALUES = 1 << 16


def _octave_rows_2d(shape, offset, cell, key, period, amp):
    """One 2-D octave as row terms: ``Σ_terms w(y) · M[rel(y)]`` (Perlin, separable).

    The lattice is contracted along the columns once (small: lattice rows × W); each term
    pairs one column-contracted lattice matrix M (float32) with a row index ``rel`` and a
    row weight ``w`` (float32, the octave's amplitude folded in)."""
    ndim = 2
    axes, grads = _octave_lattice(shape, offset, cell, key, period)
    (rel_r, f_r, _), (rel_c, f_c, _) = axes
    s_r, s_c = _fade(f_r), _fade(f_c)
    terms = []
    for k in range(ndim):  # gradient component k pairs with the offset along axis k
        wc0, wc1 = 1.0 - s_c, s_c
        wr0, wr1 = 1.0 - s_r, s_r
        if k == 1:
            wc0, wc1 = wc0 * f_c, wc1 * (f_c - 1.0)
        else:
            wr0, wr1 = wr0 * f_r, wr1 * (f_r - 1.0)
        cols = _contract_axis(grads[k].astype(np.float32), 1, rel_c, [wc0.astype(np.float32), wc1.astype(np.float32)])
        terms.append((cols, rel_r, (wr0 * amp).astype(np.float32)))
        terms.append((cols, rel_r + 1, (wr1 * amp).astype(np.float32)))
    return terms


def _contract_axis(a: np.ndarray, axis: int, rel: np.ndarray, weights) -> np.ndarray:
    """Σ_t a[rel + t along ``axis``] · weights[t] (weights broadcast along ``axis``)."""
    shape = [1] * a.ndim
    shape[axis] = len(rel)
    acc = None
    for t, w in enumerate(weights):
        term = np.take(a, rel + t, axis=axis)
        term *= w.reshape(shape)
        acc = term if acc is None else np.add(acc, term, out=acc)
    return acc


def _fractal_2d(shape, offset, cells, amps, seed, periods) -> np.ndarray:
    """Σ over octaves of the row terms, accumulated block of rows by block of rows (in cache).

    Every pixel sees the same operations in the same order (octave by octave, term by
    term), whatever the block or window: windows stay bit-exact."""
    h, w = shape
    terms = []
    for o, (cell, amp) in enumerate(zip(cells, amps)):
        terms.extend(_octave_rows_2d(shape, offset, cell, _seed_key(seed, o + 1), periods, amp))
    total = np.zeros(shape, dtype=np.float32)
    step = max(1, _BLOCK_VALUES // w)
    tmp = np.empty((min(step, h), w), np.float32)
    for y0 in range(0, h, step):
        y1 = min(y0 + step, h)
        blk, t = total[y0:y1], tmp[:y1 - y0]
        for mat, rel, wr in terms:
            np.multiply(mat[rel[y0:y1]], wr[y0:y1, None], out=t)
            blk += t
    return total


def _bspline_weights(f: np.ndarray) -> list[np.ndarray]:
    """Uniform cubic B-spline weights for taps at -1, 0, +1, +2 around position f ∈ [0, 1)."""
    g = 1.0 - f
    return [g**3 / 6.0, (3 * f**3 - 6 * f**2 + 4) / 6.0, (-3 * f**3 + 3 * f**2 + 3 * f + 1) / 6.0, f**3 / 6.0]


def smooth_field(
    shape: Sequence[int],
    *,
    seed: int,
    correlation_px: float | Sequence[float],
    offset: Sequence[int] | None = None,
) -> np.ndarray:
    """A Gaussian random field, float32, zero mean, unit variance at every pixel.

    White normal values on a lattice of spacing ``correlation_px·√1.5`` are interpolated
    with the cubic B-spline; the resulting autocorrelation is close to
    ``exp(-r² / (2·correlation_px²))``. Each pixel is divided by its exact local std
    (a function of position only), so windows (``offset``) agree with the full field.
    """
    shape, ndim, corr, offset = _field_args("smooth_field", shape, correlation_px, "correlation_px", offset)
    key = _seed_key(seed, 0x5EED)
    specs, indices = [], []
    for ax in range(ndim):
        cell = corr[ax] * math.sqrt(1.5)
        u = (np.arange(offset[ax], offset[ax] + shape[ax], dtype=np.float64) + 0.5) / cell
        i = np.floor(u)
        f = u - i
        i = i.astype(np.int64)
        lo, hi = int(i.min()) - 1, int(i.max()) + 2
        indices.append(np.arange(lo, hi + 1, dtype=np.int64))
        w = _bspline_weights(f)
        local = np.sqrt(sum(x * x for x in w))
        specs.append((i - 1 - lo, [(x / local).astype(np.float32) for x in w]))
    h = _lattice_hash(key, indices)
    # Box-Muller normals from two hashed uniforms
    u1 = 1.0 - _uniform(h, 0)
    u2 = _uniform(h, 1)
    lattice = (np.sqrt(-2.0 * np.log(u1)) * np.cos(2.0 * np.pi * u2)).astype(np.float32)
    return _contract(lattice, specs)
