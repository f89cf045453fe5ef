"""Low-frequency fractal noise evaluated on a coarse grid and interpolated (window-exact).

A fractal field whose finest octave has cells of ``c`` pixels is sampled every ``k`` pixels
(``k = ⌊c / SAMPLES_PER_CELL⌋``) at the *absolute* pixel positions ``k·i + (k − 1)/2`` —
``fractal_noise`` with ``scale_px / k`` on the coarse grid evaluates exactly the same
continuous field there — and brought back to every pixel by bilinear interpolation whose
taps and weights depend on the absolute position only. A window therefore equals the same
pixels of the whole raster bit for bit, and the field differs from a per-pixel evaluation
by the linear-interpolation error, about ``(π / SAMPLES_PER_CELL)² / 8`` ≈ 0.5 % of the
finest octave's amplitude (0.1–0.2 % of the field's std): 1/k² of the evaluations.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np

from domaug.kit import block_rows, fractal_noise, row_blocks


#: coarse samples per cell of the finest octave (linear interpolation error ∝ 1/this²)
SAMPLES_PER_CELL = 16


def coarse_step(scale_px: float, octaves: int, lacunarity: float = 2.0) -> int:
    """Grid step k for a field whose finest evaluated octave has cells of scale/lacunarity^(o−1)."""
    finest = scale_px
    for o in range(1, int(octaves)):
        if scale_px / lacunarity**o < 1.0:
            break
        finest = scale_px / lacunarity**o
    return max(1, int(finest // SAMPLES_PER_CELL))


def _axis(start: int, n: int, k: int) -> tuple[int, int, np.ndarray, np.ndarray]:
    """(first coarse index, coarse count, tap index per pixel, weight of the second tap)."""
    t = (np.arange(start, start + n, dtype=np.float64) - (k - 1) / 2.0) / k
    i = np.floor(t)
    f = t - i
    i = i.astype(np.int64)
    lo = int(i[0])
    return lo, int(i[-1]) + 2 - lo, i - lo, f


def smooth_fractal(shape: Sequence[int], offset: Sequence[int], *, seed: int, scale_px: float,
                   octaves: int, persistence: float = 0.5) -> np.ndarray:
    """``fractal_noise(shape, seed, scale_px, octaves, persistence, offset)`` (2-D, float32),
    from a coarse grid when its finest octave is at least 2·SAMPLES_PER_CELL pixels."""
    h, w = (int(s) for s in shape)
    k = coarse_step(scale_px, octaves)
    if k < 2 or h == 0 or w == 0:
        return fractal_noise((h, w), seed=seed, scale_px=scale_px, octaves=octaves, persistence=persistence,
                             offset=tuple(offset))
    r_lo, r_n, r_idx, r_f = _axis(int(offset[0]), h, k)
    c_lo, c_n, c_idx, c_f = _axis(int(offset[1]), w, k)
    grid = fractal_noise((r_n, c_n), seed=seed, scale_px=scale_px / k, octaves=octaves,
                         persistence=persistence, offset=(r_lo, c_lo))
    # columns (coarse rows × W), then rows block by block (the same operations for every pixel)
    cw0, cw1 = (1.0 - c_f).astype(np.float32), c_f.astype(np.float32)
    cols = np.take(grid, c_idx, axis=1)
    cols *= cw0
    cols += np.take(grid, c_idx + 1, axis=1) * cw1
    rw0, rw1 = (1.0 - r_f).astype(np.float32), r_f.astype(np.float32)
    out = np.empty((h, w), np.float32)
    tmp = np.empty((block_rows(h, w), w), np.float32)
    for y0, y1 in row_blocks(0, h, w):
        o, t = out[y0:y1], tmp[:y1 - y0]
        np.multiply(cols[r_idx[y0:y1]], rw0[y0:y1, None], out=o)
        np.multiply(cols[r_idx[y0:y1] + 1], rw1[y0:y1, None], out=t)
        o += t
    return out

