"""Pure kernels for procedural clouds and their geometric shadows (no randomness, no I/O).

Cloud optical thickness τ(x) comes from multi-octave gradient noise thresholded at the
quantile that gives the requested coverage. Radiative transfer is the conservative
two-stream approximation (e.g. Bohren & Clothiaux, *Fundamentals of Atmospheric
Radiation*, 2006, ch. 6): cloud reflectance ``R(τ) = βτ / (1 + βτ)`` with backscatter
fraction ``β = (1 − g)/2`` (asymmetry ``g = 0.85`` for water clouds) and diffuse
transmittance ``T = 1 − R``. The shadow is the same τ field displaced along the sun
direction (Fmask geometry, Zhu & Woodcock 2012): ``d = h·tan(θ_z)`` on the ground,
towards azimuth ``φ_sun + 180°``; the ground there receives skylight plus the direct
beam transmitted through the slant path ``τ/μ0``.
"""

from __future__ import annotations

import functools
import math
from typing import Sequence

import numpy as np

from domaug.kit import block_rows, fractal_noise, row_blocks, spread

from . import band_ops
from .coarse_fields import smooth_fractal
from .bands import percentiles

#: backscatter fraction (1 - g) / 2 for g = 0.85
BETA = 0.075
#: a pixel counts as cloud (thin) where R ≥ this, as thick cloud where R ≥ THICK_R
VISIBLE_R = 0.02
THICK_R = 0.4
#: a pixel counts as shadow where at least this fraction of the direct beam is removed
SHADOW_BLOCKED = 0.1
#: Exact coverage quantile up to this many pixels of the full raster, coarse grid above.
EXACT_QUANTILE_PX = 2048 * 2048
COARSE_QUANTILE_PX = 1024 * 1024

#: Asymptotic (optically thick) water-cloud reflectance by wavelength (nm): bright and flat
#: in the visible/NIR, lower at the water-vapour (945, 1375 nm) and SWIR ice/water
#: absorption bands (Sentinel-2 / Landsat cloud spectra, e.g. Hollstein et al. 2016).
CLOUD_REFLECTANCE_TABLE = (
    (350.0, 0.88), (500.0, 0.88), (700.0, 0.86), (900.0, 0.82), (945.0, 0.60), (1000.0, 0.80),
    (1300.0, 0.65), (1375.0, 0.30), (1450.0, 0.55), (1610.0, 0.55), (2000.0, 0.38),
    (2190.0, 0.35), (2500.0, 0.30),
)


#: ice clouds absorb more than water in the SWIR (at 1.6 µm above all): a factor on the table
ICE_FACTOR_TABLE = ((1000.0, 1.0), (1300.0, 0.9), (1610.0, 0.55), (2190.0, 0.6), (2500.0, 0.6))


def cloud_reflectance(wavelength_nm: float, ice: bool = False) -> float:
    """Optically thick cloud reflectance at ``wavelength_nm`` (table interpolation), water or ice."""
    xs, ys = zip(*CLOUD_REFLECTANCE_TABLE)
    r = float(np.interp(wavelength_nm, xs, ys))
    if ice:
        xs, ys = zip(*ICE_FACTOR_TABLE)
        r *= float(np.interp(wavelength_nm, xs, ys))
    return r


def diffuse_fraction(wavelength_nm: float, at_550: float) -> float:
    """Skylight share of ground irradiance, ∝ λ^-1.5 (bluer skylight fills shadows)."""
    return float(np.clip(at_550 * (wavelength_nm / 550.0) ** -1.5, 0.02, 0.8))


def reflectance_of_tau(tau: np.ndarray) -> np.ndarray:
    """Two-stream cloud reflectance R(τ) = βτ/(1+βτ), float32."""
    bt = np.float32(BETA) * tau
    return bt / (np.float32(1.0) + bt)


def tau_of_reflectance(r: float) -> float:
    return r / (BETA * (1.0 - r))


def shadow_shift_m(sun_azimuth_deg: float, sun_elevation_deg: float, cloud_height_m: float) -> tuple[float, float]:
    """Ground displacement (east, north) in metres from a cloud to its shadow."""
    zenith = math.radians(90.0 - sun_elevation_deg)
    d = cloud_height_m * math.tan(zenith)
    away = math.radians(sun_azimuth_deg + 180.0)
    return d * math.sin(away), d * math.cos(away)


def noise_field(shape: Sequence[int], offset: Sequence[int], *, seed: int, scale_px: float,
                octaves: int, persistence: float, locality: float) -> np.ndarray:
    """Cloud noise: fine fractal noise mixed with a 4× coarser field (``locality`` ∈ [0, 1)
    clusters clouds into fewer, more isolated groups)."""
    n = fractal_noise(shape, seed=seed, scale_px=scale_px, octaves=octaves,
                      persistence=persistence, offset=offset)
    if locality > 0:
        coarse = smooth_fractal(shape, offset, seed=seed ^ 0x5A5A5A5A, scale_px=4.0 * scale_px, octaves=2,
                                persistence=0.5)  # low-frequency: from a coarse grid, window-exact
        n *= np.float32(math.sqrt(1.0 - locality**2))
        n += np.float32(locality) * coarse
    return n


def threshold_for_coverage(field_full: np.ndarray | None, coverage: float, *, full_shape: Sequence[int],
                           seed: int, scale_px: float, octaves: int, persistence: float,
                           locality: float, tau_edge: float, tau_cap: float) -> float:
    """Noise level where τ starts, chosen so that a fraction ``coverage`` of the full
    raster has R ≥ :data:`VISIBLE_R` (cloud_mask > 0).

    ``field_full`` is the noise over the whole raster when already computed; else it is
    evaluated (exactly up to :data:`EXACT_QUANTILE_PX` pixels, on a coarse grid of the
    same field above, so that every window of a huge raster gets the same threshold).
    """
    if field_full is None:
        return _threshold_cached(float(coverage), (int(full_shape[0]), int(full_shape[1])), int(seed),
                                 float(scale_px), int(octaves), float(persistence), float(locality),
                                 float(tau_edge), float(tau_cap))
    return _threshold(field_full, coverage, tau_edge, tau_cap)


@functools.lru_cache(maxsize=16)
def _threshold_cached(coverage, full_shape, seed, scale_px, octaves, persistence, locality, tau_edge,
                      tau_cap) -> float:
    """The threshold for a whole raster (evaluated once per raster, then reused by every window)."""
    h, w = full_shape
    if h * w <= EXACT_QUANTILE_PX:
        field_full = noise_field((h, w), (0, 0), seed=seed, scale_px=scale_px, octaves=octaves,
                                 persistence=persistence, locality=locality)
    else:
        k = math.ceil(math.sqrt(h * w / COARSE_QUANTILE_PX))
        field_full = noise_field((max(1, h // k), max(1, w // k)), (0, 0), seed=seed,
                                 scale_px=scale_px / k, octaves=octaves,
                                 persistence=persistence, locality=locality)
    return _threshold(field_full, coverage, tau_edge, tau_cap)


def _threshold(field_full: np.ndarray, coverage: float, tau_edge: float, tau_cap: float) -> float:
    # R ≥ VISIBLE_R  ⟺  τ ≥ τ_vis  ⟺  n − thr ≥ x_vis
    x_vis = visible_offset(tau_edge, tau_cap)
    if not math.isfinite(x_vis):  # a layer too thin ever to count as cloud
        return float(field_full.max()) + 1.0
    if coverage <= 0:
        return float(field_full.max()) + 1.0
    if coverage >= 1:
        return float(field_full.min()) - 1.0 - x_vis
    q = percentiles(np.asarray(field_full).reshape(-1), [100.0 * (1.0 - coverage)])[0]  # = np.quantile, linear
    return q - x_vis


def thickness(n: np.ndarray, threshold: float, tau_edge: float, tau_cap: float) -> np.ndarray:
    """τ = cap·tanh(τ_edge·(n − threshold)/cap): zero below the threshold, rising with slope
    τ_edge per noise std at the edge and saturating softly at ``tau_cap`` (float32)."""
    tau = n - np.float32(threshold)
    np.maximum(tau, 0.0, out=tau)
    tau *= np.float32(tau_edge / tau_cap)
    np.tanh(tau, out=tau)
    tau *= np.float32(tau_cap)
    return tau


def cloud_optics(n_here: np.ndarray, n_src: np.ndarray, threshold: float, tau_edge: float, tau_cap: float,
                 mu0: float) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """From the noise over each pixel (``n_here``) and over the cloud that shades it
    (``n_src``): cloud reflectance ``R(τ)``, blocked share of the direct beam ``R(τ/μ0)``
    (:func:`thickness`, :func:`reflectance_of_tau`), ``cloud_mask`` (0 clear, 1 thin,
    2 thick) and ``shadow_mask``, fused block of rows by block of rows (all float32)."""
    h, w = n_here.shape
    r_cloud = np.empty((h, w), np.float32)
    blocked = np.empty((h, w), np.float32)
    cloud = np.empty((h, w), np.uint8)
    shadow = np.empty((h, w), np.uint8)
    one, thr = np.float32(1.0), np.float32(threshold)
    slope = np.float32(tau_edge / tau_cap)
    scale_here = np.float32(BETA * tau_cap)
    scale_src = np.float32(BETA * tau_cap / mu0)
    m = block_rows(h, w)
    tmp = np.empty((m, w), np.float32)
    for r0, r1 in row_blocks(0, h, w):
        t = tmp[:r1 - r0]
        for n, scale, out in ((n_here, scale_here, r_cloud), (n_src, scale_src, blocked)):
            o = out[r0:r1]
            np.subtract(n[r0:r1], thr, out=o)
            np.maximum(o, 0.0, out=o)
            o *= slope
            np.tanh(o, out=o)
            o *= scale        # βτ (τ = cap·tanh(τ_edge·(n − thr)/cap)), slant path for the beam
            np.add(o, one, out=t)
            o /= t            # R = βτ / (1 + βτ)
        rc, c = r_cloud[r0:r1], cloud[r0:r1]
        np.greater_equal(rc, np.float32(VISIBLE_R), out=c, casting="unsafe")
        c += rc >= np.float32(THICK_R)
        np.greater_equal(blocked[r0:r1], np.float32(SHADOW_BLOCKED), out=shadow[r0:r1], casting="unsafe")
        shadow[r0:r1] &= c == 0
    return r_cloud, blocked, cloud, shadow


def visible_offset(tau_edge: float, tau_cap: float) -> float:
    """Noise distance above the threshold where R reaches :data:`VISIBLE_R`."""
    tau_vis = tau_of_reflectance(VISIBLE_R)
    if tau_vis >= tau_cap:
        return math.inf
    return tau_cap / tau_edge * math.atanh(tau_vis / tau_cap)


def cover_bands(rows: np.ndarray, r_cloud: np.ndarray, blocked: np.ndarray, *, gain: Sequence[float],
                zero: Sequence[float], cloud: Sequence[float], skylight: Sequence[float],
                lo: float, hi: float, t_cloud: np.ndarray | None = None) -> np.ndarray:
    """Clouds and shadows over ``rows`` (H × W·bands DN, float, in place).

    Per band b (DN gain g, DN of zero reflectance z, cloud reflectance C, skylight share f):
    ρ = g·(DN − z)·S with S = 1 − (1 − f)·blocked (shadow), then the adding method
    ``ρ' = C·R + T²·ρ / (1 − C·R·clip(ρ, 0, 1))`` with T² = (1 − R)². Written as a change,
    ``DN' = DN + (DN − z)·(S·T² / (1 − C·R·clip(ρ)) − 1) + (C/g)·R``, which is exactly 0 where
    there is neither cloud nor shadow: those row blocks are skipped, and the result does not
    depend on the blocking. Output clipped to [lo, hi]. ``t_cloud``: the cloud's diffuse
    transmittance when it is not 1 − R (sunlit and shaded flanks change the reflected light,
    not the light that comes through), T² = t_cloud².
    """
    h, wc = rows.shape
    n = len(gain)
    w = wc // n
    dt = rows.dtype
    one = dt.type(1.0)
    z_row = band_ops.tiled(zero, w, dt)
    g_row = band_ops.tiled(gain, w, dt)
    k_row = band_ops.tiled([f - 1.0 for f in skylight], w, dt)  # −(1 − f)
    c_row = band_ops.tiled([-c for c in cloud], w, dt)  # −C
    cg_row = band_ops.tiled([c / g for c, g in zip(cloud, gain)], w, dt)
    m_max = block_rows(h, wc)
    s_buf, t_buf, u_buf, r_buf, q_buf = (np.empty((m_max, wc), dt) for _ in range(5))
    clip = np.isfinite(lo) or np.isfinite(hi)
    for r0, r1 in row_blocks(0, h, wc):
        rc, bc = r_cloud[r0:r1], blocked[r0:r1]
        if not (rc.any() or bc.any()):
            continue
        m = r1 - r0
        x, s, t, u, rx, q = rows[r0:r1], s_buf[:m], t_buf[:m], u_buf[:m], r_buf[:m], q_buf[:m]
        spread(bc, n, s)
        s *= k_row
        s += one                   # S = 1 − (1 − f)·blocked
        np.subtract(x, z_row, out=u)  # DN − z
        np.multiply(u, g_row, out=t)
        t *= s
        np.clip(t, 0.0, 1.0, out=t)    # clip(ρ, 0, 1)
        spread(rc, n, rx)
        t *= rx
        t *= c_row
        t += one                   # 1 − C·R·clip(ρ)
        if t_cloud is None:
            np.subtract(one, rx, out=q)
        else:
            spread(t_cloud[r0:r1], n, q)
        q *= q                     # T² = (1 − R)²
        s *= q
        s /= t
        s -= one                   # S·T² / (1 − C·R·ρ) − 1
        u *= s
        x += u
        rx *= cg_row
        x += rx                    # + (C/g)·R
        if clip:
            np.clip(x, lo, hi, out=x)
    return rows
