"""Cheap SSIM/PSNR for the batch engine's manifest (``ssim``/``psnr`` per output).

:func:`domaug.quality.compare` is exact (per-band SSIM at full resolution); on a
512×512 RGB file it costs about as much as reading, augmenting and writing the file.
The batch engine records the metrics for *every* output, so it uses this faster
estimate, which stays meaningful as a guard (``--max-distortion``) and as a record:

- PSNR: exact, at full resolution over all bands, float32 differences summed in float64;
- SSIM (Wang et al. 2004, 7-pixel uniform window, sample covariance, K1=0.01, K2=0.03,
  like scikit-image), per band then averaged, on a *subsampled* view: every k-th row and
  column (k the smallest integer leaving at most :data:`FAST_SSIM_PIXELS` pixels) of at
  most :data:`MAX_BANDS` evenly spread bands. Subsampling (not block averaging) keeps
  per-pixel noise at its full strength, so noise lowers the score as it does at full
  resolution; fine structure at scales below k pixels is seen at a coarser scale.
  Computed in float32 with box filters.

The data range R is the input's full scale exactly as in :mod:`domaug.quality`.
Inputs this fast path does not cover (volumes, nodata or ``valid`` masks, non-finite
values, shape changes) are handed to :func:`domaug.quality.compare` unchanged.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

#: SSIM is computed on a luminance view block-averaged down to at most this many pixels
FAST_SSIM_PIXELS = 256 * 256
#: SSIM is averaged over at most this many bands (evenly spread)
MAX_BANDS = 4
PSNR_CAP_DB = 100.0
_WIN = 7


def _exact(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict:
    from ..quality import compare

    return dict(compare(before, after))


def _bands(x: np.ndarray, has_channels: bool, step: int) -> list[np.ndarray]:
    """Float32 2-D views to score: every ``step``-th row and column of each band (at most
    :data:`MAX_BANDS` bands, evenly spread)."""
    x = x[::step, ::step]
    if not has_channels:
        return [x.astype(np.float32)]
    n = x.shape[-1]
    picks = sorted({int(round(i)) for i in np.linspace(0, n - 1, num=min(n, MAX_BANDS))})
    return [x[..., i].astype(np.float32) for i in picks]


def ssim_luma(a: np.ndarray, b: np.ndarray, r: float) -> float | None:
    """Mean SSIM of two 2-D float arrays (same shape) with data range ``r``."""
    from scipy.ndimage import uniform_filter

    if min(a.shape) < _WIN:
        return None
    c1, c2 = np.float32((0.01 * r) ** 2), np.float32((0.03 * r) ** 2)
    n = _WIN * _WIN
    cov_norm = np.float32(n / (n - 1))

    def box(x):
        return uniform_filter(x, size=_WIN, mode="reflect")

    ux, uy = box(a), box(b)
    vx = cov_norm * (box(a * a) - ux * ux)
    vy = cov_norm * (box(b * b) - uy * uy)
    vxy = cov_norm * (box(a * b) - ux * uy)
    smap = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux * ux + uy * uy + c1) * (vx + vy + c2))
    pad = (_WIN - 1) // 2
    return float(smap[pad:-pad, pad:-pad].mean(dtype=np.float64))


def psnr_full(a: np.ndarray, b: np.ndarray, r: float) -> float:
    total, count = 0.0, 0
    rows = max(1, 4_000_000 // max(1, a[0].size))
    for start in range(0, a.shape[0], rows):
        d = a[start:start + rows].astype(np.float32) - b[start:start + rows].astype(np.float32)
        total += float(np.square(d).sum(dtype=np.float64))
        count += d.size
    mse = total / count
    return math.inf if mse == 0.0 else 10.0 * math.log10(r * r / mse)


def _covered(a: np.ndarray, b: np.ndarray, lay, valid: Any, meta: Mapping[str, Any]) -> bool:
    """Whether this fast path covers the pair: one 2-D image (no volume), no ``valid`` mask or
    nodata, and finite values."""
    if lay.spatial_ndim != 2 or valid is not None or meta.get("nodata") is not None:
        return False
    floating = np.issubdtype(a.dtype, np.floating) or np.issubdtype(b.dtype, np.floating)
    return not floating or bool(np.isfinite(a).all() and np.isfinite(b).all())


def ssim_subsampled(a: np.ndarray, b: np.ndarray, r: float, has_channels: bool) -> float | None:
    """Mean SSIM over the scored bands of every k-th row and column (k leaving at most
    :data:`FAST_SSIM_PIXELS` pixels); None when the view is smaller than the window."""
    step = max(1, math.ceil(math.sqrt(a.shape[0] * a.shape[1] / FAST_SSIM_PIXELS)))
    scores = [ssim_luma(x, y, r) for x, y in zip(_bands(a, has_channels, step), _bands(b, has_channels, step))]
    return None if any(v is None for v in scores) else float(np.mean(scores))


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, float | None]:
    """``{"ssim", "psnr"}`` of an output against its input, like :func:`domaug.quality.compare` but cheap."""
    from ..quality import data_range
    from ..targets import layout_of

    a, b = before.get("image"), after.get("image")
    if a is None or b is None:
        return {"ssim": None, "psnr": None}
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.size == 0:
        return {"ssim": None, "psnr": None}
    meta = dict(before.get("meta") or {})
    lay = layout_of({"image": a, "meta": meta})
    if not _covered(a, b, lay, before.get("valid"), meta):
        return _exact(before, after)
    r = data_range(a, meta)
    s = ssim_subsampled(a, b, r, lay.has_channels)
    p = min(psnr_full(a, b, r), PSNR_CAP_DB)
    return {"ssim": None if s is None else round(s, 4), "psnr": round(p, 4)}
