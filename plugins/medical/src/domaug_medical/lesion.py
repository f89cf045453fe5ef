"""Pure kernels of synthetic lesion insertion: placement and the soft lesion profile."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from domaug.kit import lazy_module, smooth_field

ndi = lazy_module("scipy.ndimage")

#: Soft-tissue HU window used to find tissue when no organ mask is given (CT).
TISSUE_HU = (-100.0, 200.0)


def tissue_region(image: np.ndarray, ct: bool) -> np.ndarray:
    """Tissue-like voxels: soft-tissue HU for CT, above Otsu's threshold otherwise."""
    if ct:
        return (image >= TISSUE_HU[0]) & (image <= TISSUE_HU[1])
    from skimage.filters import threshold_otsu

    finite = image[np.isfinite(image)] if image.dtype.kind == "f" else image
    if finite.size == 0 or finite.min() == finite.max():
        return np.ones(image.shape, bool)
    return image > threshold_otsu(finite)


def candidate_centres(region: np.ndarray, radius_mm: float, spacing: Sequence[float],
                      max_voxels: int = 1 << 18) -> tuple[np.ndarray, float]:
    """Flat indices (into ``region``) of voxels at least ``radius_mm`` inside ``region`` (the
    deepest ones if none), and the depth reached (mm).

    Large regions are searched on a grid subsampled by an integer factor (the distance
    transform dominates the cost); depths are then accurate to about one coarse voxel.
    """
    factor = max(1, int(np.ceil((region.size / max_voxels) ** (1.0 / region.ndim))))
    coarse = region[tuple(slice(None, None, factor) for _ in region.shape)]
    coarse = ndi.binary_opening(coarse) if coarse.sum() > 64 else coarse
    if not coarse.any():
        coarse, factor = region, 1
    dist = ndi.distance_transform_edt(coarse, sampling=[s * factor for s in spacing])
    deep = np.flatnonzero(dist.ravel() >= radius_mm)
    depth = float(radius_mm)
    if not deep.size:
        depth = float(dist.max())
        deep = np.flatnonzero(dist.ravel() >= depth * 0.9) if depth > 0 else np.flatnonzero(coarse.ravel())
    if factor == 1:
        return deep, depth
    fine = np.stack(np.unravel_index(deep, coarse.shape)) * factor
    fine = fine[:, region[tuple(fine)]]  # keep coarse voxels whose fine voxel is in the region
    if fine.shape[1] == 0:
        return np.flatnonzero(region.ravel()), 0.0
    return np.ravel_multi_index(tuple(fine), region.shape), depth


def lesion_alpha(
    shape: Sequence[int],
    *,
    centre: Sequence[int],
    radius_mm: float,
    spacing: Sequence[float],
    irregularity: float,
    edge_mm: float,
    seed: int,
) -> tuple[tuple[slice, ...], np.ndarray]:
    """Partial-volume fraction α ∈ [0, 1] of an irregular ball, in a bounding box.

    The radius is modulated by a smooth Gaussian field (correlation radius/2):
    ``|x − c| < R·(1 + irregularity·n(x))``; α ramps linearly over ``edge_mm`` across the
    boundary (the partial-volume edge). Returns the box (slices) and α inside it.
    """
    reach = radius_mm * (1.0 + 2.5 * irregularity) + edge_mm
    box, offsets = [], []
    for c, n, s in zip(centre, shape, spacing):
        r = int(np.ceil(reach / s)) + 1
        lo, hi = max(0, int(c) - r), min(int(n), int(c) + r + 1)
        box.append(slice(lo, hi))
        offsets.append((np.arange(lo, hi) - int(c)) * float(s))
    grids = np.meshgrid(*offsets, indexing="ij", sparse=True)
    dist = np.sqrt(sum(g.astype(np.float32) ** 2 for g in grids))
    box_shape = dist.shape
    if irregularity > 0:
        corr = [max(radius_mm / 2.0 / s, 0.5) for s in spacing]
        noise = smooth_field(box_shape, seed=seed, correlation_px=corr)
        boundary = radius_mm * np.clip(1.0 + irregularity * noise, 0.2, None)
    else:
        boundary = np.full(box_shape, radius_mm, dtype=np.float32)
    alpha = np.clip((boundary - dist) / max(edge_mm, 1e-6) + 0.5, 0.0, 1.0).astype(np.float32)
    return tuple(box), alpha


def lesion_texture(box_shape: Sequence[int], *, spacing: Sequence[float], grain_mm: float, seed: int) -> np.ndarray:
    """Zero-mean unit-std smooth texture (correlation ``grain_mm``) inside the lesion box."""
    corr = [max(grain_mm / s, 0.5) for s in spacing]
    return smooth_field(tuple(box_shape), seed=seed ^ 0x1E5, correlation_px=corr)
