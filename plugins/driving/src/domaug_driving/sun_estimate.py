"""The frame's sunlight, measured on the coarse grid: is the sky clear or grey, and the sun-shadow /
sunlit ratio r0 per channel from the blue cast shadows on the road (see :mod:`.overcast`)."""

from __future__ import annotations

from typing import Any, Mapping, NamedTuple

import numpy as np

from .layout import GROUND, SKY

LUMA = np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
#: Sun-shadow / sunlit ratio per channel on a clear day without shadows to measure it on
#: (diffuse skylight ≈ 15–30 % of global irradiance, bluer than the sun).
CLEAR_DAY_R0 = np.array([0.22, 0.27, 0.38], dtype=np.float32)
#: A sky is clear (blue) when its blue / red ratio in linear light exceeds this.
CLEAR_SKY_BLUE_RED = 2.2


def luma(a: np.ndarray) -> np.ndarray:
    """Linear luminance of an ...×3 float32 array (three scaled adds: no BLAS call, whose
    threads spin under load for a product this small)."""
    y = a[..., 0] * LUMA[0]
    y += a[..., 1] * LUMA[1]
    y += a[..., 2] * LUMA[2]
    return y


class SunLight(NamedTuple):
    """What the frame says of its sunlight: ``r0`` (3,) sun-shadow / sunlit ratio per
    channel (1 = no direct sun), ``share`` the direct sun's share of the road's illumination
    (1 − r0 in luminance), ``lit_rows`` (coarse rows,) the road's sunlit luminance per row of
    the coarse grid (NaN where the row has no road) and ``measured`` (shadows were found)."""

    r0: np.ndarray
    share: float
    lit_rows: np.ndarray
    measured: bool


def _lit_rows(y: np.ndarray, ground: np.ndarray) -> np.ndarray:
    """The 75th percentile of the road's luminance in each row of the coarse grid, filled
    between rows with road (NaN when the frame has < 6 road pixels in every row)."""
    hs, ws = y.shape
    n = ground.sum(axis=1)
    ordered = np.sort(np.where(ground, y, -np.inf), axis=1)
    idx = np.clip(ws - n + (0.75 * n).astype(np.intp), 0, ws - 1)
    lit = ordered[np.arange(hs), idx].astype(np.float32)
    ok = n >= 6
    if not ok.any():
        return np.full(hs, np.nan, dtype=np.float32)
    rows = np.arange(hs)
    filled = np.interp(rows, rows[ok], lit[ok]).astype(np.float32)
    filled[: int(np.argmax(ok))] = np.nan  # nothing above the first road row
    return filled


#: The sky's colour is the median (and its level the mean) of about this many of its coarse cells.
SKY_SAMPLES = 2000


def _sky_cells(coarse: Mapping[str, Any], min_cells: int) -> np.ndarray | None:
    """Linear colours (N×3) of about :data:`SKY_SAMPLES` of the sky's coarse cells (every
    step-th row and column), None when the sky has fewer than ``min_cells`` cells."""
    sky = coarse["labels"] == SKY
    n = int(np.count_nonzero(sky))
    if n < min_cells:
        return None
    step = max(1, int(np.sqrt(n / SKY_SAMPLES)))
    return coarse["small"][::step, ::step][sky[::step, ::step]]


def _sky_is_clear(coarse: Mapping[str, Any]) -> bool | None:
    """True for a clear blue sky, False for a grey / hazy one, None when the frame shows < 30
    sky pixels on the coarse grid."""
    cells = _sky_cells(coarse, 30)
    if cells is None:
        return None
    colour = np.median(cells, axis=0)
    return bool(colour[2] > CLEAR_SKY_BLUE_RED * max(float(colour[0]), 1e-6))


def estimate_sun(coarse: Mapping[str, Any]) -> SunLight:
    """Measure the frame's sunlight on the coarse grid (see the module docstring): none under a
    grey sky; under a clear sky (or none in view) the blue cast shadows on the road give r0."""
    small, labels = coarse["small"][::2, ::2], coarse["labels"][::2, ::2]  # every second row and column: enough
    y = luma(small)
    ground = labels == GROUND
    lit_half = _lit_rows(y, ground)
    full_rows = coarse["labels"].shape[0]
    lit_rows = np.interp(np.arange(full_rows) / 2.0, np.arange(len(lit_half)), lit_half).astype(np.float32)
    lit_rows[np.arange(full_rows) / 2.0 < np.argmax(np.isfinite(lit_half))] = np.nan
    clear = _sky_is_clear(coarse)
    if clear is False:
        return SunLight(np.ones(3, dtype=np.float32), 0.0, lit_rows, False)
    ratio = y / np.where(np.isfinite(lit_half), lit_half, np.inf)[:, None]
    camera = coarse.get("camera") or {}
    hs = labels.shape[0]
    first = (camera.get("horizon_row", 0.58 * full_rows * coarse["k"]) / (2 * coarse["k"])) + 0.1 * hs
    body = ground & (np.arange(hs)[:, None] >= first)  # the road's body: near the horizon objects pass for road
    lit = body & (ratio > 0.85) & (ratio < 1.25)
    shade = body & (ratio > 0.1) & (ratio < 0.6)
    if shade.sum() >= max(15, 0.02 * body.sum()) and lit.sum() >= 15:
        ref = np.maximum(np.nan_to_num(lit_half), 1e-6)
        (rs, cs), (rl, cl) = np.nonzero(shade), np.nonzero(lit)  # only these cells: no full-grid passes
        px_s, px_l = small[rs, cs], small[rl, cl]
        r0 = (np.median(px_s / ref[rs, None], axis=0)
              / np.maximum(np.median(px_l / ref[rl, None], axis=0), 1e-6))
        chroma_s = px_s[:, 2] / (px_s.sum(axis=1) + 1e-6)
        chroma_l = px_l[:, 2] / (px_l.sum(axis=1) + 1e-6)
        if np.median(chroma_s) > np.median(chroma_l) + 0.02:  # blue shadows: the sun's
            r0 = np.clip(r0, 0.08, 1.0).astype(np.float32)
            return SunLight(r0, float(1.0 - r0 @ LUMA), lit_rows, True)
    if clear:
        return SunLight(CLEAR_DAY_R0.copy(), float(1.0 - CLEAR_DAY_R0 @ LUMA), lit_rows, False)
    return SunLight(np.ones(3, dtype=np.float32), 0.0, lit_rows, False)
