"""Pure kernels of the elastic deformation's rigid parts and border: where a displacement
field is damped (bone, given labels) and how sampling positions outside the grid are folded
back (mirror). No randomness."""

from __future__ import annotations

from typing import Sequence

import numpy as np

from domaug.kit import lazy_module

ndi = lazy_module("scipy.ndimage")

#: Components smaller than this (mm³ in 3-D, mm² in 2-D) are not bone (calcifications, noise).
MIN_BONE_SIZE = 5.0
#: Cancellous bone (HU, on the image smoothed by :data:`SMOOTH_MM`) joined to the cortex: trabecular
#: bone of the spine is ~100–300 HU in adults (below ~110 HU at L1 suggests osteoporosis, Pickhardt
#: et al., Ann Intern Med 158:588, 2013; from memory), above muscle (40–60 HU) and unenhanced blood.
CANCELLOUS_HU = 150.0
#: Gaussian σ (mm) of the smoothing before the cancellous threshold (CT noise is 10–30 HU).
SMOOTH_MM = 1.0
#: Largest number of voxels the distance map is computed on (larger grids are max-pooled first).
MAX_EDT_VOXELS = 1 << 22


def bone_mask(hu: np.ndarray, threshold_hu: float, spacing: Sequence[float]) -> np.ndarray:
    """Bone: voxels above ``threshold_hu`` (cortex, dense trabeculae) grown into the connected
    voxels above :data:`CANCELLOUS_HU` on the image smoothed by :data:`SMOOTH_MM` (the
    cancellous bone and marrow of the vertebral body, hysteresis thresholding), holes filled
    per slice, components under :data:`MIN_BONE_SIZE` dropped. Soft tissue (< 100 HU) and
    unenhanced blood (40–60 HU) stay out; a contrast-filled vessel touching bone may join it."""
    strong = hu > threshold_hu
    if not strong.any():
        return strong
    sigma = [SMOOTH_MM / max(float(s), 1e-6) for s in spacing]
    if hu.ndim == 3:
        sigma[0] = 0.0  # in-plane only: thick slices do not blur bone into the next one
    smooth = ndi.gaussian_filter(np.asarray(hu, np.float32), sigma, mode="nearest")
    weak = (smooth > min(CANCELLOUS_HU, threshold_hu)) | strong
    labels, n = ndi.label(weak)
    seeded = np.zeros(n + 1, bool)
    seeded[np.unique(labels[strong])] = True
    seeded[0] = False
    mask = seeded[labels]
    if mask.ndim == 3:  # fill per axial slice: a 3-D fill misses marrow open at the ends
        mask = np.stack([ndi.binary_fill_holes(m) for m in mask])
    else:
        mask = ndi.binary_fill_holes(mask)
    labels, n = ndi.label(mask)
    if n == 0:
        return mask
    sizes = np.bincount(labels.ravel())[1:] * float(np.prod(spacing))
    keep = np.zeros(n + 1, bool)
    keep[1:] = sizes >= MIN_BONE_SIZE
    return keep[labels]


def _pooled(mask: np.ndarray) -> tuple[np.ndarray, int]:
    """``mask`` max-pooled by an integer factor so it has at most :data:`MAX_EDT_VOXELS` voxels."""
    k = max(1, int(np.ceil((mask.size / MAX_EDT_VOXELS) ** (1.0 / mask.ndim))))
    if k == 1:
        return mask, 1
    pad = [(0, (-n) % k) for n in mask.shape]
    m = np.pad(mask, pad)
    shape = []
    for n in m.shape:
        shape += [n // k, k]
    return m.reshape(shape).any(axis=tuple(range(1, 2 * mask.ndim, 2))), k


def rigidity_weight(rigid: np.ndarray, spacing: Sequence[float], max_displacement_mm: float) -> np.ndarray:
    """Per voxel, the factor (0…1, float32) the displacement is multiplied by.

    ``w = clip((d − m) / (2·D), 0, 1)`` with ``d`` the distance (mm) to the nearest rigid
    voxel, ``D`` the largest displacement and ``m`` one voxel diagonal: rigid voxels and
    their first neighbours do not move, and a voxel at distance d moves at most (d − m)/2,
    so no voxel outside the rigid part ever samples inside it (the rigid part keeps its
    shape exactly). Large volumes: distances on a max-pooled grid, less one pooled
    diagonal (conservative).
    """
    if not rigid.any() or max_displacement_mm <= 0:
        return np.ones(rigid.shape, np.float32)
    pooled, k = _pooled(rigid)
    dist = ndi.distance_transform_edt(~pooled, sampling=[s * k for s in spacing])
    margin = float(np.sqrt(sum(float(s) ** 2 for s in spacing)))
    if k > 1:
        margin += float(np.sqrt(sum((float(s) * k) ** 2 for s in spacing)))
        for axis, n in enumerate(rigid.shape):
            dist = np.repeat(dist, k, axis=axis).take(np.arange(n), axis=axis)
    w = np.clip((dist - margin) / (2.0 * max_displacement_mm), 0.0, 1.0)
    return w.astype(np.float32)


def damp_coordinates(coords: np.ndarray, weight: np.ndarray) -> None:
    """Sampling positions ``coords`` (ndim × grid, identity + displacement) → identity +
    ``weight``·displacement, in place."""
    for k, n in enumerate(coords.shape[1:]):
        grid = np.arange(n, dtype=coords.dtype).reshape([-1 if j == k else 1 for j in range(coords.ndim - 1)])
        coords[k] -= grid
        coords[k] *= weight
        coords[k] += grid


def mirror_coordinates(coords: np.ndarray) -> None:
    """Fold positions outside ``[0, n − 1]`` back by mirroring about the edge pixel centres
    (``scipy.ndimage`` mode "mirror"), in place: nothing is sampled outside the grid."""
    for k, n in enumerate(coords.shape[1:]):
        c = coords[k]
        if n == 1:
            c[...] = 0
            continue
        period = 2.0 * (n - 1)
        np.mod(c, period, out=c)
        np.minimum(c, period - c, out=c)
