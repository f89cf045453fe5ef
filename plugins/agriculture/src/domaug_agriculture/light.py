"""Pure kernels for daylight: skylight fraction, plant shadows, vignetting, sRGB coding."""

from __future__ import annotations

import math
from typing import Mapping

import numpy as np

from domaug.kit import linear_to_srgb, srgb_to_linear


def skylight_fraction(wavelengths_nm: np.ndarray, at_550: float = 0.2) -> np.ndarray:
    """Diffuse (sky) share of clear-sky irradiance per band: ≈ λ^−2 (Rayleigh-dominated sky, with aerosol).

    What a shadow keeps: blue ≈ 0.27, red ≈ 0.14, NIR ≈ 0.09 of the sunlit value.
    """
    f = at_550 * (np.asarray(wavelengths_nm, float) / 550.0) ** -2.0
    return np.clip(f, 0.03, 0.9).astype(np.float32)


#: irradiance under an overcast deck relative to the clear sky (stratiform cloud, optical depth ~10-20):
#: clouds are white in the VNIR, so the light under them keeps the clear-sky spectrum
OVERCAST_TRANSMITTANCE = 0.35


def clear_sky(wavelengths_nm: np.ndarray, zenith_deg: float, aod550: float = 0.15,
              angstrom: float = 1.3) -> tuple[np.ndarray, np.ndarray]:
    """(direct, diffuse) horizontal irradiance per band over the top-of-atmosphere irradiance (float64).

    Single-scattering clear sky (after Bird & Riordan 1986, SPCTRAL2, without absorbers): Rayleigh
    optical depth 0.0088·λ[µm]^−4.05, aerosol τ = AOD550·(λ/550)^−α (Ångström); direct
    = μ0·exp(−m·τ), diffuse = μ0·(½·(1 − e^(−m·τR)) + ¾·(1 − e^(−m·τA))) with the air mass
    m = 1/μ0 (half the Rayleigh and ¾ of the aerosol-scattered light go down). A low sun
    reddens the direct beam and blues the sky by nearly the same amount, so band ratios of a
    sunlit surface barely move (ΔNDVI < 0.005 from 25° to 70° zenith).
    """
    mu = max(math.cos(math.radians(zenith_deg)), 0.02)
    lam = np.asarray(wavelengths_nm, float)
    tau_r = 0.0088 * (lam / 1000.0) ** -4.05
    tau_a = aod550 * (lam / 550.0) ** -angstrom
    direct = mu * np.exp(-(tau_r + tau_a) / mu)
    diffuse = mu * (0.5 * (1 - np.exp(-tau_r / mu)) + 0.75 * (1 - np.exp(-tau_a / mu)))
    return direct, diffuse


def is_display_coded(dtype: np.dtype, roles: Mapping[str, int]) -> bool:
    """uint8 RGB(A) photos are sRGB-coded; uint16 / float multispectral DN are linear."""
    return np.dtype(dtype) == np.uint8 and "nir" not in roles


def decode(x: np.ndarray, full_scale: float, coded: bool) -> np.ndarray:
    """DN → linear light (sRGB curve for display-coded 8-bit, ``domaug.kit.srgb_to_linear``); reuses float32 ``x``."""
    y = np.multiply(x, np.float32(1.0 / full_scale), out=x if x.dtype == np.float32 else None)
    np.maximum(y, 0.0, out=y)
    if coded:
        y = srgb_to_linear(np.minimum(y, 1.0)).astype(np.float32, copy=False)
    return y


def encode(y: np.ndarray, full_scale: float, coded: bool) -> np.ndarray:
    """Linear light → DN (values over 1 clip at full scale for display-coded data)."""
    if coded:
        y = linear_to_srgb(np.minimum(y, 1.0)).astype(np.float32, copy=False)
    else:
        np.maximum(y, 0.0, out=y)
    y *= np.float32(full_scale)
    return y


def shadow_offset(length_px: float, azimuth_deg: float) -> tuple[float, float]:
    """(drow, dcol) of a shadow tip for a sun at ``azimuth_deg`` (clockwise from north = image up).

    Shadows point away from the sun: toward azimuth + 180°.
    """
    a = math.radians(azimuth_deg)
    return (length_px * math.cos(a), -length_px * math.sin(a))


def cast_shadow(objects: np.ndarray, drow: float, dcol: float, max_steps: int = 96) -> np.ndarray:
    """Union of ``objects`` shifted from 0 to (drow, dcol): the shadow of upright plants on flat ground.

    Plants are treated as vertical prisms of their top-view outline; at most ``max_steps``
    shifts (steps ≤ length/96 px, so only very long shadows of tiny plants get gaps).
    """
    h, w = objects.shape
    length = math.hypot(drow, dcol)
    out = objects.copy()
    if length < 0.5:
        return out
    steps = int(min(max_steps, math.ceil(length)))
    for i in range(1, steps + 1):
        r = int(round(drow * i / steps))
        c = int(round(dcol * i / steps))
        if abs(r) >= h or abs(c) >= w:
            continue
        src = objects[max(0, -r): h - max(0, r), max(0, -c): w - max(0, c)]
        out[max(0, r): h - max(0, -r) if r < 0 else h, max(0, c): w - max(0, -c) if c < 0 else w] |= src
    return out


def vignette(shape: tuple[int, int], strength: float) -> np.ndarray:
    """Radial fall-off 1 − strength·ρ² (ρ = 1 at the corners), as on multispectral camera frames."""
    h, w = shape
    yy = (np.arange(h, dtype=np.float32) + 0.5 - h / 2) / (h / 2)
    xx = (np.arange(w, dtype=np.float32) + 0.5 - w / 2) / (w / 2)
    rho2 = (yy[:, None] ** 2 + xx[None, :] ** 2) / 2.0
    return (1.0 - np.float32(strength) * rho2).astype(np.float32)
