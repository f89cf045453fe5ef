"""Smooth random fields for the driving transforms (fog density, snow cover, droplets).

Uses ``domaug.ops.fields.fractal_noise`` from the core when it is available; otherwise a
local equivalent: octaves of cubic-upsampled white noise on coarse grids. Both give a
float32 field of zero mean and roughly unit standard deviation, fully determined by
``seed``.
"""

from __future__ import annotations

import numpy as np


def _local_fractal(shape: tuple[int, int], seed: int, scale_px: float, octaves: int) -> np.ndarray:
    from scipy.ndimage import zoom

    rng = np.random.default_rng(seed)
    h, w = shape
    total = np.zeros(shape, dtype=np.float32)
    amp, scale = 1.0, float(scale_px)
    for _ in range(octaves):
        gh, gw = max(2, int(np.ceil(h / scale)) + 3), max(2, int(np.ceil(w / scale)) + 3)
        grid = rng.standard_normal((gh, gw)).astype(np.float32)
        up = zoom(grid, (scale, scale), order=3, grid_mode=False, mode="nearest")
        total += amp * up[:h, :w]
        amp *= 0.5
        scale = max(scale / 2.0, 1.0)
    total -= total.mean()
    std = float(total.std())
    if std > 0:
        total /= std
    return total


def _linear_upsample_matrix(n_out: int, n_in: int) -> np.ndarray:
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


def noise_field(shape: tuple[int, int], *, seed: int, scale_px: float, octaves: int = 4) -> np.ndarray:
    """Zero-mean, unit-std smooth noise of feature size ``scale_px`` (float32, ``shape``).

    Fields much smoother than a pixel (``scale_px`` ≥ 64) are evaluated on a grid
    ``scale_px/16`` times coarser and interpolated linearly (two small matrix products),
    which is ~10× faster and invisible at that smoothness.
    """
    try:
        from domaug.ops.fields import fractal_noise
    except ImportError:
        fractal_noise = None
    h, w = shape
    factor = int(scale_px // 16) if scale_px >= 64 else 1
    small_shape = (max(2, -(-h // factor)), max(2, -(-w // factor)))
    small_scale = scale_px / factor
    if fractal_noise is not None:
        small = np.asarray(fractal_noise(small_shape, seed=seed, scale_px=small_scale, octaves=octaves), dtype=np.float32)
    else:
        small = _local_fractal(small_shape, seed, small_scale, octaves)
    if factor == 1:
        return small[:h, :w]
    out = _linear_upsample_matrix(h, small_shape[0]) @ small @ _linear_upsample_matrix(w, small_shape[1]).T
    out -= out.mean()
    std = float(out.std())
    if std > 0:
        out /= std
    return out.astype(np.float32, copy=False)
