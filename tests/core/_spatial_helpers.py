"""Small helpers shared by the spatial-transform tests."""

from __future__ import annotations

import numpy as np


def world(gt, x, y):
    """Map (x, y) pixel edge coordinates to map coordinates through a GDAL geotransform."""
    return gt[0] + x * gt[1] + y * gt[2], gt[3] + x * gt[4] + y * gt[5]


def centroid_xy(image: np.ndarray, center_xy=None, radius: float | None = None):
    """Brightness centroid in (x, y) edge coordinates, optionally inside a window."""
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 3:
        img = img.sum(-1)
    yy, xx = np.mgrid[: img.shape[0], : img.shape[1]]
    xx = xx + 0.5
    yy = yy + 0.5
    w = np.clip(img, 0, None)
    if center_xy is not None:
        w = w * ((np.abs(xx - center_xy[0]) <= radius) & (np.abs(yy - center_xy[1]) <= radius))
    total = w.sum()
    if total == 0:
        return None
    return float((w * xx).sum() / total), float((w * yy).sum() / total)


def blob(h: int, w: int, x: float, y: float, sigma: float = 1.5) -> np.ndarray:
    """A float32 Gaussian spot centred at edge coordinates (x, y)."""
    yy, xx = np.mgrid[:h, :w]
    return np.exp(-((xx + 0.5 - x) ** 2 + (yy + 0.5 - y) ** 2) / (2 * sigma**2)).astype(np.float32)
