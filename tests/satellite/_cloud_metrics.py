"""Measures of cloud fields shared by the cloud tests (what a remote-sensing specialist checks)."""

from __future__ import annotations

import math

import numpy as np
from scipy import ndimage


def cell_diameters_m(mask: np.ndarray, pixel_m: float) -> np.ndarray:
    """Equivalent diameter (m) of each connected component (8-connected) of ``mask``."""
    labels, _ = ndimage.label(mask, structure=np.ones((3, 3)))
    sizes = np.bincount(labels.ravel())[1:]
    return 2.0 * np.sqrt(sizes / np.pi) * pixel_m


def edge_rise_px(signal: np.ndarray, mask: np.ndarray) -> float:
    """10–90 % rise distance (px) of the mean ``signal`` (cloud minus ground) against the signed
    distance to the cloud-mask edge (−3 px outside … 8 px inside)."""
    inside = ndimage.distance_transform_edt(mask)
    outside = ndimage.distance_transform_edt(~mask)
    d = np.where(mask, np.ceil(inside - 0.5), 1.0 - np.ceil(outside - 0.5))
    ks = [k for k in range(-3, 9) if (d == k).any()]
    v = np.array([signal[d == k].mean() for k in ks])
    lo, hi = v.min(), v.max()

    def crossing(t):
        for i in range(1, len(ks)):
            if v[i - 1] < t <= v[i]:
                return ks[i - 1] + (t - v[i - 1]) / (v[i] - v[i - 1])
        return math.nan
    return crossing(lo + 0.9 * (hi - lo)) - crossing(lo + 0.1 * (hi - lo))


def flank_edge_ratio(refl: np.ndarray, mask: np.ndarray, sun_azimuth_deg: float, ring=(2, 4)) -> float:
    """Mean ``refl`` of cloud pixels 2–4 px inside edges that face the sun (outward normal within
    45° of the sun azimuth, north up) over those inside edges that face away."""
    inside = ndimage.distance_transform_edt(mask)
    g_row, g_col = np.gradient(ndimage.gaussian_filter(inside, 1.0))  # points inwards
    norm = np.hypot(g_row, g_col) + 1e-9
    east, north = -g_col / norm, g_row / norm  # outward normal
    az = math.radians(sun_azimuth_deg)
    facing = east * math.sin(az) + north * math.cos(az)
    band = mask & (inside >= ring[0]) & (inside <= ring[1])
    return float(refl[band & (facing > 0.7)].mean() / refl[band & (facing < -0.7)].mean())
