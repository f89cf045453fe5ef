"""Holes in a measured depth map: the layout's prior, scaled to agree with the measurements nearby.

A lidar depth map (KITTI) is measured on a sparse pattern of scan lines and not at all above
them; a stereo disparity map (Cityscapes) has no value in the sky and at occlusions. A hole takes
the scene layout's distance (:func:`~.layout.scene_layout`: ground plane, objects standing on it,
sky) times a scale that the measurements around it set: the local mean of ``ℓ_measured /
ℓ_prior`` by normalised convolution (Knutsson & Westin, CVPR 1993) with a Gaussian of σ = 3 % of
the width. Where measurements are dense (≥ 2 % of the pixels within σ, as lidar scan lines are)
the fill follows them, so sparse lidar gives a smooth distance instead of speckle; further than
≈ 3.5σ from any measurement the fill is the layout's own distance; sky stays sky.
"""

from __future__ import annotations

import numpy as np

from domaug.kit import cv2_module, gaussian_blur, resize

SIGMA_PER_WIDTH = 0.03  #: σ of the normalised convolution, fraction of the image width
FULL_DENSITY = 0.02  #: local fraction of measured pixels above which the measured scale is trusted fully
GRID_PX = 128  #: short side of the grid the scale is estimated on


def _block_means(field: np.ndarray, k: int) -> np.ndarray:
    """Means over k×k blocks (float32; the last partial row/column of blocks dropped)."""
    h, w = field.shape
    hs, ws = h // k, w // k
    part = np.ascontiguousarray(field[: hs * k, : ws * k])
    cv2 = cv2_module()
    if cv2 is not None and k > 1:
        return cv2.resize(part, (ws, hs), interpolation=cv2.INTER_AREA)
    return part.reshape(hs, k, ws, k).sum(axis=3).sum(axis=1) / np.float32(k * k)


def measured_scale(depth: np.ndarray, prior: np.ndarray, measured: np.ndarray) -> np.ndarray:
    """1 + c·(r̄ − 1): the factor (float32 H×W) taking the prior to the measurements' local scale."""
    h, w = depth.shape
    k = max(1, min(h, w) // GRID_PX)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = np.divide(depth, prior, dtype=np.float32)
    np.copyto(ratio, np.float32(0), where=~measured)
    sigma = SIGMA_PER_WIDTH * w / k
    num = gaussian_blur(_block_means(ratio, k), sigma, 2)
    density = gaussian_blur(_block_means(measured.view(np.uint8).astype(np.float32), k), sigma, 2)
    mean = num / np.maximum(density, 1e-12)
    confidence = np.minimum(density / FULL_DENSITY, 1.0)
    scale = np.clip(1.0 + confidence * (mean - 1.0), 0.25, 4.0).astype(np.float32)
    return resize(scale, (h, w), spatial_ndim=2, order=1, antialias=False)


def fill_holes(depth: np.ndarray, prior: np.ndarray, *, sky_depth_m: float) -> np.ndarray:
    """``depth`` (float32, a new array) with its holes (NaN, ≤ 0) set from ``prior`` × the measured scale."""
    d = np.array(depth, dtype=np.float32)
    holes = ~(d > 0)  # NaN compares False: no data
    if not holes.any():
        return d
    sky = prior >= sky_depth_m
    with np.errstate(invalid="ignore"):
        measured = ~holes & np.isfinite(d) & ~sky
    if not measured.any():
        np.copyto(d, prior, where=holes)
        return d
    fill = prior * measured_scale(d, prior, measured)
    np.copyto(fill, prior, where=sky)  # sky stays sky
    np.copyto(d, fill, where=holes)
    return d
