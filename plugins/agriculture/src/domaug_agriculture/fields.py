"""Fields of a drone frame: regions of homogeneous vegetation, each with its own phenology timing.

Neighbouring fields are sown, watered and harvested on different dates, so at one moment
they sit at different points of the season. The frame is segmented on its vegetation
index, smoothed over a few crop rows so a field's rows and gaps read as one texture
(Felzenszwalb & Huttenlocher 2004 graph segmentation, ``skimage.segmentation.felzenszwalb``,
on a ≤ 96 px overview), and each field draws its own timing offset.
"""

from __future__ import annotations

import numpy as np

from domaug.kit import cv2_module

#: longest side of the overview the fields are segmented on (pixels)
OVERVIEW_PX = 96


def segment_fields(index: np.ndarray, valid: np.ndarray | None = None, min_field_frac: float = 0.015) -> np.ndarray:
    """Field labels (H×W int32, 0..n−1) of a vegetation-index plane (pixels outside ``valid`` read as its median).

    The index is block-averaged to a ≤ :data:`OVERVIEW_PX` overview, smoothed (σ = 1
    overview px ≈ 1 % of the frame), segmented with Felzenszwalb's method (regions of at
    least ``min_field_frac`` of the overview), and the labels are brought back by nearest
    neighbour. Deterministic: the same frame always gives the same fields.
    """
    from scipy.ndimage import gaussian_filter
    from skimage.segmentation import felzenszwalb

    h, w = index.shape
    step = max(1, int(np.ceil(max(h, w) / OVERVIEW_PX)))
    x = np.asarray(index, np.float32)
    if not np.isfinite(x.sum()):
        x = np.nan_to_num(x, nan=0.0, posinf=0.0, neginf=0.0)
    if valid is not None:
        x = np.where(valid, x, np.float32(np.median(x[valid]) if valid.any() else 0.0))
    sr, sc = min(step, h), min(step, w)
    hh, ww = h // sr, w // sc  # (a last partial block joins its neighbour's label)
    small = block_mean(x[: hh * sr, : ww * sc], hh, ww)
    small = gaussian_filter(small, 1.0, mode="nearest")
    span = float(np.ptp(small)) or 1.0
    small = (small - small.min()) / span
    min_size = max(4, int(min_field_frac * small.size))
    labels = felzenszwalb(small, scale=float(small.size) / 100.0, sigma=0.0, min_size=min_size)
    rows = np.minimum(np.arange(h) // sr, hh - 1)
    cols = np.minimum(np.arange(w) // sc, ww - 1)
    return np.ascontiguousarray(labels[rows[:, None], cols[None, :]].astype(np.int32))


def block_mean(x: np.ndarray, hh: int, ww: int) -> np.ndarray:
    """Mean of each of hh × ww equal blocks of a float32 plane whose sides are multiples of hh and ww."""
    cv2 = cv2_module()
    if cv2 is not None and max(x.shape) < 2**15:
        return cv2.resize(np.ascontiguousarray(x), (ww, hh), interpolation=cv2.INTER_AREA)
    return x.reshape(hh, x.shape[0] // hh, ww, x.shape[1] // ww).mean(axis=(1, 3))


def field_draws(n_fields: int, seed: int, spread: float) -> np.ndarray:
    """Each field's timing offset, N(0, ``spread``) (float32, n_fields; zeros for spread 0)."""
    if spread <= 0 or n_fields <= 0:
        return np.zeros(max(n_fields, 1), np.float32)
    return np.random.default_rng(seed).normal(0.0, spread, n_fields).astype(np.float32)


def field_offsets(labels: np.ndarray, seed: int, spread: float) -> np.ndarray:
    """Per-pixel timing offset (H×W float32): each field's :func:`field_draws` value."""
    n = int(labels.max()) + 1 if labels.size else 0
    return field_draws(n, seed, spread)[labels] if n else np.zeros(labels.shape, np.float32)
