"""Quality guard: how far an augmented output is from its input (SSIM and PSNR).

Both metrics compare an output with the input it was made from, pixel for pixel, so
they are defined only when the two have the same shape (a crop or a resize gives
``None``). The intensity scale ("data range") is the input's full scale, as
:func:`domaug.dtypes.full_scale` defines it: 255 for uint8, 2^bit_depth − 1 for 12-bit
data in uint16, ``meta["full_scale"]`` when declared (e.g. 10000 for reflectance ×10⁴),
1.0 for floats in [0, 1]. Signed integers (CT in HU) and floats outside [0, 1] use a
declared ``valid_range``, else the input's observed range.

PSNR = 10·log10(R² / MSE) in dB (∞ for identical arrays); SSIM is Wang et al. 2004
(7-pixel uniform window, scikit-image), per band then averaged, on 2-D images and on
volumes. Nodata pixels (``valid`` False, or equal to ``meta["nodata"]``) are left out
of both. Cost is bounded for large rasters: PSNR streams through the image in chunks,
and SSIM above :data:`MAX_SSIM_PIXELS` is estimated on evenly spread tiles.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from .dtypes import full_scale

#: PSNR reported by :func:`compare` for identical images (JSON has no infinity).
PSNR_CAP_DB = 100.0
#: SSIM of larger images is estimated on tiles covering about this many spatial pixels.
MAX_SSIM_PIXELS = 1 << 20  # 1024², exact below
SSIM_TILE_2D = 256
SSIM_TILE_3D = 64
#: PSNR works through the image in chunks of about this many values (bounded memory).
CHUNK_VALUES = 4_000_000


def data_range(image: np.ndarray, meta: Mapping[str, Any] | None = None) -> float:
    """The intensity span R used by SSIM and PSNR for ``image`` under ``meta``."""
    meta = meta or {}
    dtype = image.dtype
    if meta.get("full_scale") is not None:
        return float(meta["full_scale"])
    if meta.get("valid_range") is not None:
        lo, hi = meta["valid_range"]
        return float(hi) - float(lo)
    if np.issubdtype(dtype, np.unsignedinteger):
        return float(full_scale(dtype, meta))
    finite = image[np.isfinite(image)] if np.issubdtype(dtype, np.floating) else image
    if finite.size == 0:
        return 1.0
    lo, hi = float(finite.min()), float(finite.max())
    if np.issubdtype(dtype, np.floating) and lo >= 0.0 and hi <= 1.0:
        return 1.0
    return max(hi - lo, 1.0 if np.issubdtype(dtype, np.integer) else 1e-12)


def _layout(image: np.ndarray, meta: Mapping[str, Any]) -> tuple[int, bool]:
    """(spatial_ndim, has_channels) of ``image`` by the sample rules of domaug.targets."""
    from .targets import layout_of

    lay = layout_of({"image": image, "meta": dict(meta)})
    return lay.spatial_ndim, lay.has_channels


def _valid_mask(a: np.ndarray, meta: Mapping[str, Any], valid: np.ndarray | None,
                has_channels: bool) -> np.ndarray | None:
    """Boolean spatial mask of pixels to score (None = all)."""
    mask = None if valid is None else np.asarray(valid, dtype=bool)
    nodata = meta.get("nodata")
    if mask is None and nodata is not None:
        bad = np.isnan(a) if (isinstance(nodata, float) and math.isnan(nodata)) else a == nodata
        if has_channels:
            bad = bad.all(axis=-1)
        mask = ~bad if bad.any() else None
    if np.issubdtype(a.dtype, np.floating):
        finite = np.isfinite(a)
        if has_channels:
            finite = finite.all(axis=-1)
        if not finite.all():
            mask = finite if mask is None else mask & finite
    return mask


def _setup(a: np.ndarray, b: np.ndarray, meta: Mapping[str, Any] | None, valid: np.ndarray | None):
    """(a, b, R, spatial_ndim, has_channels, mask) or None when the shapes differ."""
    a, b = np.asarray(a), np.asarray(b)
    if a.shape != b.shape or a.size == 0:
        return None
    meta = dict(meta or {})
    spatial_ndim, has_channels = _layout(a, meta)
    mask = _valid_mask(a, meta, valid, has_channels)
    if mask is not None and mask.shape != a.shape[: a.ndim - int(has_channels)]:
        mask = None
    r = data_range(a if mask is None else a[mask], meta)
    return a, b, r, spatial_ndim, has_channels, mask


def _as_work(x: np.ndarray, mask: np.ndarray | None, has_channels: bool) -> np.ndarray:
    """Float copy (float32 up to 16-bit input) with nodata set to 0 so it cannot leak into windows."""
    work = np.float64 if x.dtype == np.float64 or x.dtype.itemsize > 2 else np.float32
    out = x.astype(work)
    if mask is not None:
        out[~mask] = 0.0
    return out


def psnr(a: np.ndarray, b: np.ndarray, meta: Mapping[str, Any] | None = None,
         valid: np.ndarray | None = None) -> float | None:
    """PSNR of ``b`` against reference ``a`` in dB; ``inf`` if identical, ``None`` if shapes differ."""
    setup = _setup(a, b, meta, valid)
    if setup is None:
        return None
    a, b, r, _, _, mask = setup
    total, count = 0.0, 0
    step = max(1, CHUNK_VALUES // max(1, a[0].size))  # rows per chunk: bounded memory
    for start in range(0, a.shape[0], step):
        d = a[start:start + step].astype(np.float64) - b[start:start + step]
        if mask is not None:
            d = d[mask[start:start + step]]
        d = d[np.isfinite(d)] if np.issubdtype(a.dtype, np.floating) else d
        d = d.ravel()
        total += float(np.dot(d, d))
        count += d.size
    if count == 0:
        return None
    mse = total / count
    if mse == 0.0:
        return math.inf
    return float(10.0 * math.log10(r * r / mse))


def _win_size(spatial_shape: tuple[int, ...]) -> int | None:
    smallest = min(spatial_shape)
    if smallest >= 7:
        return 7
    if smallest < 3:
        return None
    return smallest if smallest % 2 else smallest - 1


def _tiles(spatial_shape: tuple[int, ...]) -> list[tuple[slice, ...]]:
    """Evenly spread tiles of an image larger than MAX_SSIM_PIXELS, about that many pixels in all."""
    n = len(spatial_shape)
    edge = SSIM_TILE_2D if n == 2 else SSIM_TILE_3D
    sizes = [min(edge, s) for s in spatial_shape]
    count = max(1, MAX_SSIM_PIXELS // int(np.prod(sizes)))
    per_axis = max(1, int(round(count ** (1.0 / n))))
    starts = [np.unique(np.linspace(0, s - t, num=min(per_axis, max(1, s // t)), dtype=int))
              for s, t in zip(spatial_shape, sizes)]
    grid = np.meshgrid(*starts, indexing="ij")
    return [tuple(slice(int(g[idx]), int(g[idx]) + t) for g, t in zip(grid, sizes))
            for idx in np.ndindex(grid[0].shape)]


def _ssim_mean(af, bf, r, win, has_channels, mask) -> tuple[float, int]:
    """(sum of SSIM over the scored pixels, their count) of one block."""
    from skimage.metrics import structural_similarity

    _, smap = structural_similarity(af, bf, data_range=r, win_size=win,
                                    channel_axis=-1 if has_channels else None, full=True)
    if has_channels:
        smap = smap.mean(axis=-1)
    pad = (win - 1) // 2  # like skimage: leave out the border where the window is incomplete
    inner = tuple(slice(pad, s - pad) if s > 2 * pad else slice(None) for s in smap.shape)
    smap = smap[inner]
    if mask is not None:
        smap = smap[mask[inner]]
    return float(smap.sum(dtype=np.float64)), int(smap.size)


def ssim(a: np.ndarray, b: np.ndarray, meta: Mapping[str, Any] | None = None,
         valid: np.ndarray | None = None) -> float | None:
    """Mean SSIM of ``b`` against reference ``a`` (1.0 = identical); ``None`` if shapes differ.

    Images smaller than 3 pixels along a spatial axis give ``None``. Images with more
    than :data:`MAX_SSIM_PIXELS` spatial pixels are scored on evenly spread tiles
    covering about that many pixels (an estimate of the full mean, at bounded cost).
    """
    setup = _setup(a, b, meta, valid)
    if setup is None:
        return None
    a, b, r, spatial_ndim, has_channels, mask = setup
    spatial_shape = a.shape[:spatial_ndim]
    win = _win_size(spatial_shape)
    if win is None:
        return None
    blocks = [tuple(slice(None) for _ in spatial_shape)]
    if int(np.prod(spatial_shape)) > MAX_SSIM_PIXELS:
        blocks = _tiles(spatial_shape)
    total, count = 0.0, 0
    for block in blocks:
        m = None if mask is None else mask[block]
        part = _ssim_mean(_as_work(a[block], m, has_channels), _as_work(b[block], m, has_channels),
                          r, win, has_channels, m)
        total, count = total + part[0], count + part[1]
    return total / count if count else None


def compare(before: Mapping[str, Any], after: Mapping[str, Any]) -> dict[str, float | None]:
    """``{"ssim": ..., "psnr": ...}`` of an output sample against its input sample (JSON-safe).

    Uses the input's ``meta`` and ``valid``; identical images report PSNR as
    :data:`PSNR_CAP_DB`; values are rounded to 4 decimals.
    """
    a, b = before.get("image"), after.get("image")
    if a is None or b is None:
        return {"ssim": None, "psnr": None}
    meta = before.get("meta") or {}
    valid = before.get("valid")
    s = ssim(a, b, meta, valid)
    p = psnr(a, b, meta, valid)
    if p is not None:
        p = min(p, PSNR_CAP_DB)
    return {
        "ssim": None if s is None else round(s, 4),
        "psnr": None if p is None else round(p, 4),
    }
