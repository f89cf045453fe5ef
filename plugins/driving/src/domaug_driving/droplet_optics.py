"""Optics of water drops on a windscreen seen by a camera focused far away (pure kernels).

A drop on the glass is a plano-convex water lens (a spherical cap of contact angle θc). A
camera ray meeting the cap at normalised radius ρ leaves the water through a surface tilted
by β = asin(ρ·sin θc) and is bent towards the drop's axis by δ = asin(n·sin β) − β (Snell,
n = 1.333; total internal reflection where n·sin β > 1). The ray through the drop's top
therefore looks down: each drop shows a wide, demagnified, *inverted* view of the scene
(Roser & Geiger, ICCVW 2009; Halimeh & Roser, IV 2009; You et al., TPAMI 2016).

The camera is focused at ``focus_distance_m`` ≫ the glass at distance d, so a point of the
glass spreads over the thin-lens circle of confusion

    c = f_px · A · |S − d| / (d · (S − F))       (A = F/N aperture diameter, S focus distance)

pixels: the camera averages, for each pixel, the light of a disc of diameter c on the glass.
The image is the background E where the disc misses the drop and the refracted view where it
hits it: ``out = (1 − α)·E + (disc ⊛ mask·T·V)`` with α = disc ⊛ mask. Energy is conserved: a
convex mix of scene radiances (T = 0.98, the Fresnel loss of the water–air surface).
"""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from domaug.kit import cv2_module

#: Refractive index of water.
N_WATER = 1.333
#: Transmittance of the water–air surface at normal incidence (1 − ((n − 1)/(n + 1))²).
TRANSMITTANCE = 1.0 - ((N_WATER - 1.0) / (N_WATER + 1.0)) ** 2
#: Radiance seen where the drop's surface reflects totally, as a fraction of the drop's view.
TIR_LEVEL = 0.25


def circle_of_confusion_px(focal_length_px: float, focal_length_mm: float, f_number: float,
                           focus_distance_m: float, object_distance_m: float) -> float:
    """Thin-lens blur-circle diameter (px) of an object at ``object_distance_m`` for a lens of
    ``focal_length_mm`` at ``f_number`` focused at ``focus_distance_m``."""
    aperture_m = focal_length_mm / 1000.0 / f_number
    s, d, f = focus_distance_m, object_distance_m, focal_length_mm / 1000.0
    return focal_length_px * aperture_m * abs(s - d) / (d * max(s - f, 1e-9))


def deflection(rho: np.ndarray, sin_contact: np.ndarray | float) -> tuple[np.ndarray, np.ndarray]:
    """(tan δ, TIR mask) for rays leaving spherical-cap drops (sin of the contact angle
    ``sin_contact``) at normalised radius ``rho``."""
    sin_beta = np.clip(rho, 0.0, 1.0) * sin_contact
    s_out = sin_beta * np.float32(N_WATER)
    tir = s_out >= 1.0
    delta = np.arcsin(np.minimum(s_out, 1.0)) - np.arcsin(sin_beta)
    return np.tan(delta).astype(np.float32), tir


def disc_kernel(diameter: float) -> np.ndarray:
    """Normalised pillbox (the lens aperture) of ``diameter`` px, anti-aliased at its rim."""
    r = max(0.5, diameter / 2.0)
    n = int(math.ceil(r - 0.5))
    yy, xx = np.mgrid[-n : n + 1, -n : n + 1].astype(np.float32)
    k = np.clip(r + 0.5 - np.sqrt(yy * yy + xx * xx), 0.0, 1.0)
    return (k / k.sum()).astype(np.float32)


def _convolve(a: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    cv2 = cv2_module()
    if cv2 is not None:
        return cv2.filter2D(a, -1, kernel, borderType=cv2.BORDER_CONSTANT)
    from scipy.ndimage import convolve

    if a.ndim == 3:
        return np.stack([convolve(a[..., c], kernel, mode="constant") for c in range(a.shape[2])], -1)
    return convolve(a, kernel, mode="constant")


def sample_bilinear(env: np.ndarray, y: np.ndarray, x: np.ndarray) -> np.ndarray:
    """``env`` (h×w×3 float32) at fractional pixel positions (y, x) (N,; pixel centres at
    integers), edge-clamped: an (N, 3) array (``cv2.remap`` when available)."""
    h, w = env.shape[:2]
    y = np.clip(y, 0.0, h - 1.0).astype(np.float32)
    x = np.clip(x, 0.0, w - 1.0).astype(np.float32)
    cv2 = cv2_module()
    if cv2 is not None and 0 < y.size < 2**20 and max(h, w) < 32767:
        out = cv2.remap(env, x.reshape(-1, 1), y.reshape(-1, 1), cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return out.reshape(-1, 3)
    iy, ix = np.minimum(y.astype(np.intp), max(h - 2, 0)), np.minimum(x.astype(np.intp), max(w - 2, 0))
    fy, fx = (y - iy)[..., None], (x - ix)[..., None]
    iy1, ix1 = np.minimum(iy + 1, h - 1), np.minimum(ix + 1, w - 1)
    return ((env[iy, ix] * (1 - fx) + env[iy, ix1] * fx) * (1 - fy)
            + (env[iy1, ix] * (1 - fx) + env[iy1, ix1] * fx) * fy)


def _cells(drops: list, step: float, grid: tuple[int, int], origin: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(drop index, row cell, column cell) of every grid cell in every drop's bounding box (flat)."""
    row = np.array([d["row"] for d in drops], np.float64) - origin
    col = np.array([d["col"] for d in drops], np.float64) - origin
    rx = np.array([d["radius_px"] for d in drops], np.float64)
    ry = rx * np.array([d["aspect"] for d in drops], np.float64)
    i0 = np.clip(np.floor((row - ry) / step - 1.0), 0, grid[0]).astype(np.int64)
    i1 = np.clip(np.ceil((row + ry) / step + 1.0), 0, grid[0]).astype(np.int64)
    j0 = np.clip(np.floor((col - rx) / step - 1.0), 0, grid[1]).astype(np.int64)
    j1 = np.clip(np.ceil((col + rx) / step + 1.0), 0, grid[1]).astype(np.int64)
    ni, nj = np.maximum(i1 - i0, 0), np.maximum(j1 - j0, 0)
    counts = ni * nj
    idx = np.repeat(np.arange(len(drops)), counts)
    local = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
    return idx, i0[idx] + local // nj[idx], j0[idx] + local % nj[idx]


def drop_sources(drops: list, optics: Mapping[str, float], env: np.ndarray, env_scale: float, step: float,
                 grid: tuple[int, int], origin: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """(mask, light) of all drops on a grid of ``grid`` cells of ``step`` px (cell centres at
    ``origin`` + (i + ½)·step in both axes): the share of each cell inside a drop (h×w) and the
    refracted light it lets through, T·mask·V (h×w×3), before the camera's defocus.

    ``env`` is the blurred scene, full-res pixel (y, x) at env position (y, x)/``env_scale`` − ½.
    ``drops``: row, col, radius_px, aspect (vertical/horizontal semi-axis), contact_angle_deg;
    ``optics``: focal_length_px. Vectorised over every (drop, cell) pair.
    """
    mask = np.zeros(grid, np.float32)
    light = np.zeros(grid + (3,), np.float32)
    if not drops:
        return mask, light
    idx, ci, cj = _cells(drops, step, grid, origin)
    f32 = lambda key: np.array([d[key] for d in drops], np.float32)[idx]  # noqa: E731
    rx = f32("radius_px")
    ry = rx * f32("aspect")
    gy = (ci + 0.5).astype(np.float32) * np.float32(step) + np.float32(origin)
    gx = (cj + 0.5).astype(np.float32) * np.float32(step) + np.float32(origin)
    v, u = (gy - f32("row")) / ry, (gx - f32("col")) / rx
    rho = np.sqrt(u * u + v * v)
    m = np.clip((1.0 - rho) * (np.minimum(rx, ry) / np.float32(step)) + 0.5, 0.0, 1.0)  # area-sampled rim
    inside = m > 0
    idx, gy, gx, u, v, rho, m = idx[inside], gy[inside], gx[inside], u[inside], v[inside], rho[inside], m[inside]
    tan_d, tir = deflection(rho, np.sin(np.radians(np.array([d["contact_angle_deg"] for d in drops], np.float32)))[idx])
    shift = np.float32(optics["focal_length_px"]) * tan_d / np.maximum(rho, np.float32(1e-6))
    view = sample_bilinear(env, (gy - shift * v) / np.float32(env_scale) - 0.5,  # bent towards the axis:
                           (gx - shift * u) / np.float32(env_scale) - 0.5)     # an inverted view
    view *= (m * np.where(tir, np.float32(TIR_LEVEL * TRANSMITTANCE), np.float32(TRANSMITTANCE)))[:, None]
    flat = ci[inside] * grid[1] + cj[inside]  # where drops overlap (merge), the later one covers the cell
    mask.reshape(-1)[flat] = m
    light.reshape(-1, 3)[flat] = view
    return mask, light


def defocus(mask: np.ndarray, light: np.ndarray, coc_cells: float) -> tuple[np.ndarray, np.ndarray]:
    """(α, W): the drops' mask and light seen through the lens aperture (disc of ``coc_cells``)."""
    kernel = disc_kernel(coc_cells)
    return _convolve(mask, kernel), _convolve(light, kernel)
