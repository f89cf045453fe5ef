"""CloudCover's cloud-model fields for one raster or window: τ, flank-lit reflectance, shadow.

From the height field of :mod:`cloud_model`: τ over each pixel and over the cloud that
shades it (the same field displaced by the shadow shift, Fmask geometry); two-stream
reflectance R(τ) = (1−g)τ / (2 + (1−g)τ) (g = 0.85), transmittance 1 − R. The reflected
light of an optically thick cloud follows the cloud-top facet's illumination,
``F = 1 + w·s·(cos i / μ0 − 1)`` with cos i = n·ŝ from the height-field gradient and the sun
vector, s = 0.6 (the rest is light diffused through the turret and from the cloud around) and
w = 1 − e^(−τ/3) (thin edges have no facets): sunlit flanks brighter, shaded flanks darker
than the top. The sensor's PSF (Gaussian, σ = 0.6 px) softens cloud and shadow edges as in a real image.
"""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import gaussian_blur

from . import cloud_model, cloud_ops

FLANK_STRENGTH = 0.6
#: facets are taken from the cloud top smoothed over this many pixels (turrets, not turbulence)
FACET_SIGMA_PX = 2.0
#: the sensor's PSF (Gaussian σ, pixels; OLI and MSI MTF ≈ 0.3 at Nyquist)
PSF_SIGMA_PX = 0.6
#: margin (px) computed around a window so that the blurs are exact inside it
MARGIN_PX = 12  # ≥ 4σ of the facet smoothing + 4σ of the PSF + 1 (the gradient)
FLANK_TAU = 3.0
#: height of the turrets on a cumulus cell's margin (metres; :func:`cloud_model._lobes`)
LOBE_M = 60.0
#: largest brightening of a facet facing the sun (cos i / μ0 is clipped here)
MAX_FLANK_GAIN = 2.5


def draw_model(rng: np.random.Generator, preset: str, pixel_m: float, *, tau_ref: float,
               coverage: float, size_scale: float, full_shape=(1024, 1024)) -> dict:
    """The JSON params of a cloud-type field at ``pixel_m`` (levels smaller than ½ px dropped)."""
    ct = cloud_model.CLOUD_TYPES[preset]
    levels = [[lo * size_scale / pixel_m, hi * size_scale / pixel_m] for lo, hi in ct.levels_m
              if hi * size_scale / pixel_m >= 0.5]
    mid = math.sqrt(levels[len(levels) // 2][0] * levels[len(levels) // 2][1]) if levels else 500.0 / pixel_m
    tau_vis = cloud_ops.tau_of_reflectance(cloud_ops.VISIBLE_R)
    ratio = tau_vis / tau_ref
    visible = ct.depth_ref_m * (ratio if ct.ice else ratio ** 0.6)
    return {"model": "cloud_type", "levels_px": levels, "depth_m": list(ct.depth_m),
            "presence": cell_presence(coverage, full_shape[0] * full_shape[1] / (math.pi * mid * mid))
            if ct.deck == 0 else 0.9,
            "cluster_px": 8000.0 * size_scale / pixel_m, "pixel_m": pixel_m, "texture": ct.texture,
            "texture_scale_px": max(2.0, mid / 1.5), "lobe_m": LOBE_M * size_scale if ct.deck == 0 else 0.0,
            "deck": ct.deck, "deck_scale_px": max(4.0, ct.deck_size_m * size_scale / pixel_m),
            "deck_depth_m": {"cirrus": 500.0, "stratocumulus": 60.0}.get(preset, 150.0), "streak": ct.streak,
            "closed_cells_px": 2500.0 * size_scale / pixel_m if preset == "stratocumulus" else 0.0,
            "closed_cells_depth_m": float(rng.uniform(*ct.depth_m)),
            "wind_deg": float(rng.uniform(0.0, 180.0)), "tau_ref": tau_ref, "depth_ref_m": ct.depth_ref_m,
            "ice": ct.ice, "visible_depth_m": visible, "coverage": coverage}


#: share of the raster one lattice of cells covers when every candidate cell is there
LATTICE_SHARE = 0.12
#: cells drawn for this multiple of the requested coverage (the cloud base trims the rest)
CELL_MARGIN = 1.3


def cell_presence(coverage: float, cells_in_raster: float) -> float:
    """Probability that a lattice square holds a cell, so that the six lattices together cover
    about 1.3× the requested coverage (at low coverage fewer cells, not smaller ones), more
    on a raster that holds few cells (their count fluctuates by √N)."""
    n = max(coverage * cells_in_raster, 1.0)
    target = min(0.5, (CELL_MARGIN + 1.0 / math.sqrt(n)) * max(coverage, 0.0))
    return min(1.0, (1.0 - (1.0 - target) ** (1.0 / 6.0)) / LATTICE_SHARE)


def _tau(field: np.ndarray, base: float, params: Mapping[str, Any]) -> np.ndarray:
    depth = field - np.float32(base)
    np.maximum(depth, 0.0, out=depth)
    return cloud_model.optical_thickness(depth, float(params["tau_ref"]), float(params["depth_ref_m"]),
                                         bool(params["ice"]))


def _reflectance(tau: np.ndarray, mu0: float = 1.0) -> np.ndarray:
    bt = tau * np.float32(cloud_ops.BETA / mu0)
    return bt / (np.float32(1.0) + bt)


def flank_gain(top: np.ndarray, tau: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """F per pixel from the cloud-top height ``top`` and τ (same shape): facets of the top
    smoothed over :data:`FACET_SIGMA_PX` (the turrets, not the pixel-scale turbulence)."""
    pixel = float(params["pixel_m"])
    smooth = gaussian_blur(top, FACET_SIGMA_PX, 2)
    d_row, d_col = np.gradient(smooth, pixel)
    g_e, g_n = d_col, -d_row
    el, az = math.radians(float(params["sun_elevation_deg"])), math.radians(float(params["sun_azimuth_deg"]))
    s_e, s_n, s_z = math.cos(el) * math.sin(az), math.cos(el) * math.cos(az), math.sin(el)
    cos_i = (s_z - g_e * np.float32(s_e) - g_n * np.float32(s_n)) / np.sqrt(1.0 + g_e * g_e + g_n * g_n)
    ratio = np.clip(cos_i / np.float32(s_z), 0.0, MAX_FLANK_GAIN) - np.float32(1.0)
    w = np.float32(1.0) - np.exp(-tau / np.float32(FLANK_TAU))
    return np.float32(1.0) + np.float32(FLANK_STRENGTH) * w * ratio


def _height_fields(h: int, w: int, r0: int, c0: int, sr: int, sc: int, params: Mapping[str, Any]):
    """(height over the window, height over the shading clouds), each with a margin of
    :data:`MARGIN_PX`: one field over the union when the shadow shift is small, else two."""
    m = MARGIN_PX
    top, left = min(r0, r0 - sr) - m, min(c0, c0 - sc) - m
    bottom, right = max(r0, r0 - sr) + h + m, max(c0, c0 - sc) + w + m
    if (bottom - top) * (right - left) <= 2 * (h + 2 * m) * (w + 2 * m):
        union = cloud_model.height_field((bottom - top, right - left), (top, left), params)
        here = union[r0 - m - top:r0 + h + m - top, c0 - m - left:c0 + w + m - left]
        src = union[r0 - sr - m - top:r0 - sr + h + m - top, c0 - sc - m - left:c0 - sc + w + m - left]
        return here.copy(), src
    here = cloud_model.height_field((h + 2 * m, w + 2 * m), (r0 - m, c0 - m), params)
    return here, cloud_model.height_field((h + 2 * m, w + 2 * m), (r0 - sr - m, c0 - sc - m), params)


def _psf(field: np.ndarray) -> np.ndarray:
    """The sensor's point-spread function (Gaussian, :data:`PSF_SIGMA_PX`), margin cropped."""
    m = MARGIN_PX
    return gaussian_blur(field, PSF_SIGMA_PX, 2)[m:-m, m:-m]


def fields(shape, offset, full_shape, params: Mapping[str, Any]):
    """(reflected R·F, transmittance 1 − R, blocked share of the direct beam, cloud_mask,
    shadow_mask) of the window ``shape`` at absolute ``offset`` of a ``full_shape`` raster."""
    h, w = shape
    r0, c0 = offset
    m = MARGIN_PX
    sr, sc = (int(round(v)) for v in params["shadow_shift_px"])
    whole = (r0, c0) == (0, 0) and tuple(full_shape) == (h, w) and h * w <= cloud_model.QUANTILE_PX
    here, src = _height_fields(h, w, r0, c0, sr, sc, params)
    base = cloud_model.cloud_base(params, full_shape, here[m:-m, m:-m] if whole else None)
    tau = _tau(here, base, params)
    np.maximum(here, np.float32(base), out=here)  # the cloud top (the base where clear: no facets)
    r = _reflectance(tau)
    reflected = _psf(r * flank_gain(here, tau, params))
    np.minimum(reflected, 0.98, out=reflected)
    mu0 = math.sin(math.radians(float(params["sun_elevation_deg"])))
    blocked = _reflectance(_tau(src, base, params), mu0)
    # labels from the fields as modelled (the coverage asked for, exactly), pixels through the PSF
    core = (slice(m, -m), slice(m, -m))
    cloud = (r[core] >= np.float32(cloud_ops.VISIBLE_R)).astype(np.uint8)
    cloud += r[core] >= np.float32(cloud_ops.THICK_R)
    shadow = ((blocked[core] >= np.float32(cloud_ops.SHADOW_BLOCKED)) & (cloud == 0)).astype(np.uint8)
    return reflected, np.float32(1.0) - _psf(r), _psf(blocked), cloud, shadow
