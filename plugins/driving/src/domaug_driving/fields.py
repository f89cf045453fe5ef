"""Smooth random fields for the driving transforms (fog density, snow cover, droplets).

The noise itself is the core's ``domaug.kit.fractal_noise``. What this module adds
(and why it is not just that call): fields much smoother than a pixel are evaluated on a
coarse grid and interpolated, ~10× faster at 1024², and renormalised to zero mean and
unit std over the frame. The driving transforms never evaluate windows of a larger
frame, so they do not need the core's window consistency at full resolution.
"""

from __future__ import annotations

import functools

import numpy as np

from domaug.kit import cv2_module, fractal_noise

from .scratch import buffer


def linear_upsample_matrix(n_out: int, n_in: int) -> np.ndarray:
    """n_out×n_in matrix of linear interpolation between pixel centres."""
    x = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    i0 = np.floor(x).astype(np.intp)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w = (x - i0).astype(np.float32)
    m = np.zeros((n_out, n_in), dtype=np.float32)
    rows = np.arange(n_out)
    np.add.at(m, (rows, i0), 1.0 - w)
    np.add.at(m, (rows, i1), w)
    return m


@functools.lru_cache(maxsize=16)
def _bspline_taps(n_out: int, n_in: int) -> tuple[np.ndarray, np.ndarray]:
    """Uniform cubic B-spline interpolation from n_in lattice centres to n_out pixel centres
    (C²-smooth: no creases along lattice lines; edges replicated) as four (index, weight)
    taps per output: indices (n_out×4 intp) and weights (n_out×4 float32), cached read-only
    (the same few sizes come back on every call of a transform)."""
    x = (np.arange(n_out) + 0.5) * n_in / n_out - 0.5
    i0 = np.floor(x).astype(np.intp)
    t = (x - i0)[:, None]
    weights = np.concatenate([(1 - t) ** 3, 3 * t**3 - 6 * t**2 + 4, -3 * t**3 + 3 * t**2 + 3 * t + 1, t**3],
                             axis=1) / 6.0
    cols = np.clip(i0[:, None] + np.arange(-1, 3)[None, :], 0, n_in - 1)
    weights = weights.astype(np.float32)
    cols.flags.writeable = weights.flags.writeable = False
    return cols, weights


def bspline_upsample(lattice: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """``lattice`` (float32 ny×nx) interpolated to ``shape`` by the uniform cubic B-spline of
    :func:`_bspline_taps`: four gathered taps per axis, columns on the small lattice first,
    then whole rows (no matrix product: BLAS threads spin under load for products this small)."""
    (rows, wr), (cols, wc) = _bspline_taps(shape[0], lattice.shape[0]), _bspline_taps(shape[1], lattice.shape[1])
    wide = lattice[:, cols[:, 0]] * wc[:, 0]
    for j in range(1, 4):
        wide += lattice[:, cols[:, j]] * wc[:, j]
    out = wide[rows[:, 0]] * wr[:, 0:1]
    for j in range(1, 4):
        out += wide[rows[:, j]] * wr[:, j : j + 1]
    return out


def std32(a: np.ndarray, work: np.ndarray) -> float:
    """``float(a.std())`` of a float32 array, bit for bit (numpy's two passes: mean, then the
    mean of the squared deviations), with the deviations in ``work`` (float32, ``a``'s shape)
    instead of a new array of ``a``'s size."""
    n = np.intp(a.size)
    mean = np.add.reduce(a, axis=None, keepdims=True)
    np.true_divide(mean, n, out=mean, casting="unsafe")
    np.subtract(a, mean, out=work)
    np.square(work, out=work)
    var = np.add.reduce(work, axis=None)
    return float(np.sqrt(var.dtype.type(var / n)))


def noise_field(shape: tuple[int, int], *, seed: int, scale_px: float, octaves: int = 4,
                out: np.ndarray | None = None) -> np.ndarray:
    """Zero-mean, unit-std smooth noise of feature size ``scale_px`` (float32, ``shape``).

    Fields much smoother than a pixel (``scale_px`` ≥ 64) are evaluated on a grid
    ``scale_px/16`` times coarser and interpolated linearly (``cv2.resize``, or two small
    matrix products without OpenCV), which is ~10× faster and invisible at that smoothness.
    Written to ``out`` (C-contiguous float32 of ``shape``) when given, else a new array.
    """
    h, w = shape
    factor = int(scale_px // 16) if scale_px >= 64 else 1
    small_shape = (max(2, -(-h // factor)), max(2, -(-w // factor)))
    small_scale = scale_px / factor
    small = np.asarray(fractal_noise(small_shape, seed=seed, scale_px=small_scale, octaves=octaves), dtype=np.float32)
    if factor == 1:
        if out is None:
            return small[:h, :w]
        np.copyto(out, small[:h, :w])
        return out
    cv2 = cv2_module()
    if out is None:
        out = np.empty((h, w), dtype=np.float32)
    if cv2 is not None and h < 32768 and w < 32768:  # same half-pixel-centred linear weights, SIMD
        cv2.resize(np.ascontiguousarray(small), (w, h), dst=out, interpolation=cv2.INTER_LINEAR)
    else:
        np.matmul(linear_upsample_matrix(h, small_shape[0]) @ small, linear_upsample_matrix(w, small_shape[1]).T,
                  out=out)
    out -= out.mean()
    std = std32(out, buffer("noise_field_dev", out.shape))  # no frame-sized temporary (page faults)
    if std > 0:
        out /= std
    return out.astype(np.float32, copy=False)


def value_noise(shape: tuple[int, int], *, seed: int, scale_px: float, octaves: int = 3) -> np.ndarray:
    """Cheap smooth noise (float32 ``shape``, zero mean, unit std): white Gaussian lattices of
    spacing ``scale_px / 2^o`` (o = 0…octaves−1, lattices finer than 1 px skipped), each
    interpolated by a cubic B-spline (:func:`bspline_upsample`: no lattice creases, which
    bilinear interpolation shows as a checkerboard once the texture is laid on the road)
    and summed with weights 2^−o. ~10× cheaper than :func:`noise_field` for textures that
    are remapped and thresholded anyway (puddles, lying snow); meant for fields of a few
    hundred pixels a side."""
    h, w = shape
    rng = np.random.default_rng(seed)
    out = np.zeros((h, w), dtype=np.float32)
    for o in range(max(1, int(octaves))):
        cell = scale_px / 2.0**o
        if o and cell < 1.0:
            break
        ny, nx = max(2, int(np.ceil(h / cell)) + 1), max(2, int(np.ceil(w / cell)) + 1)
        lattice = rng.standard_normal((ny, nx), dtype=np.float32)
        up = bspline_upsample(lattice, (h, w))
        up *= np.float32(0.5**o)
        out += up
    out -= out.mean()
    std = float(out.std())
    if std > 0:
        out /= np.float32(std)
    return out
