"""Pure kernels of synthetic lesion insertion: placement and the soft lesion profile."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from domaug.kit import lazy_module, smooth_field

ndi = lazy_module("scipy.ndimage")

#: Host regions searched when no organ mask is given: CT HU windows (on the image smoothed
#: by :data:`REGION_SMOOTH_MM`, so that the noise does not cut holes into the tissue).
#: Soft tissue 0–150 HU: muscle, parenchyma, blood, not fat (< −30) nor bone (> 300).
REGION_HU = {"soft_tissue": (0.0, 150.0), "lung": (-950.0, -400.0)}
#: Gaussian σ (mm) of the smoothing before the HU window is applied.
REGION_SMOOTH_MM = 1.0


def host_region(image: np.ndarray, region: str, spacing: Sequence[float]) -> np.ndarray:
    """Where a lesion may lie without an organ mask: a CT HU window of :data:`REGION_HU`
    on the image smoothed by :data:`REGION_SMOOTH_MM` (one opening removes one-voxel
    bridges), or for ``"signal"`` (MR) the voxels above Otsu's threshold."""
    if region == "signal":
        from skimage.filters import threshold_otsu

        finite = image[np.isfinite(image)] if image.dtype.kind == "f" else image
        if finite.size == 0 or finite.min() == finite.max():
            return np.ones(image.shape, bool)
        return image > threshold_otsu(finite)
    lo, hi = REGION_HU[region]
    sigma = [REGION_SMOOTH_MM / max(float(s), 1e-6) for s in spacing]
    smooth = ndi.gaussian_filter(np.asarray(image, np.float32), sigma, mode="nearest")
    inside = (smooth >= lo) & (smooth <= hi)
    return ndi.binary_opening(inside) if inside.sum() > 64 else inside


def candidate_centres(region: np.ndarray, radius_mm: float, spacing: Sequence[float],
                      max_voxels: int = 1 << 18) -> tuple[np.ndarray, float]:
    """Flat indices (into ``region``) of voxels at least ``radius_mm`` inside ``region`` and
    from the in-plane image border (the deepest ones if none), and the depth reached (mm).

    Large regions are searched on a grid subsampled by an integer factor (the distance
    transform dominates the cost); depths are then accurate to about one coarse voxel.
    """
    factor = max(1, int(np.ceil((region.size / max_voxels) ** (1.0 / region.ndim))))
    coarse = region[tuple(slice(None, None, factor) for _ in region.shape)]
    coarse = ndi.binary_opening(coarse) if coarse.sum() > 64 else coarse
    if not coarse.any():
        coarse, factor = region, 1
    # the in-plane border bounds the host too: a lesion is not cut in half by the field of view
    # (the ends of a stack may cut it: a scan range does)
    pad = [(0, 0)] * (coarse.ndim - 2) + [(1, 1), (1, 1)]
    inner = tuple(slice(p[0], n + p[0]) for p, n in zip(pad, coarse.shape))
    dist = ndi.distance_transform_edt(np.pad(coarse, pad), sampling=[s * factor for s in spacing])[inner]
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
