"""agriculture.SoilMoisture: wet soil between the plants (darker, most in NIR/SWIR), optional puddles."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, check_number, check_range, draw_seed, sample_uniform, smooth_field, spread

from . import _fast, bands
from ._base import AgriPixelTransform, from_linear_units, map_linear, to_linear_units, working_copy
from .vegetation import feather, sample_vegetation

#: Wet-soil reflectance after Lobell & Asner (SSSA J. 66:722, 2002): an exponential decay with the
#: degree of saturation S, R(S)/R_dry = a(λ) + (1 − a(λ))·exp(−c(λ)·S). It saturates at lower
#: moisture in the VNIR (larger c) and goes deepest in the SWIR (smaller floor a): SWIR darkens
#: most, then NIR, then the visible, at every S (a falls and (1 − a)·c rises with λ).
#: Values read from their Fig. 2–4 trends (approximate, from memory of the paper).
MOISTURE_NM = np.array([400.0, 700.0, 900.0, 1600.0, 2200.0])
WET_FLOOR = np.array([0.62, 0.58, 0.52, 0.30, 0.25])
DECAY_RATE = np.array([6.0, 6.0, 6.0, 4.5, 4.5])
#: Relative reflectance of a shallow puddle vs the dry soil around it, by wavelength.
PUDDLE_NM = np.array([400.0, 600.0, 700.0, 800.0, 2200.0])
PUDDLE_VALUES = np.array([0.55, 0.45, 0.35, 0.12, 0.05])


def _curve(wavelengths_nm: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(wet floor a, decay rate c) per band (float32), interpolated in wavelength."""
    wl = np.asarray(wavelengths_nm, float)
    return (np.interp(wl, MOISTURE_NM, WET_FLOOR).astype(np.float32),
            np.interp(wl, MOISTURE_NM, DECAY_RATE).astype(np.float32))


def moisture_factor(wavelengths_nm: np.ndarray, moisture: np.ndarray) -> np.ndarray:
    """R(S)/R_dry = a + (1 − a)·exp(−c·S) for an H×W saturation map S → H×W×C gains."""
    a, c = _curve(wavelengths_nm)
    m = np.asarray(moisture, np.float32)[..., None]
    return a + (1 - a) * np.exp(-m * c)


class SoilMoisture(AgriPixelTransform):
    """Soil moisture: wet soil between the plants is darker, more so at longer wavelengths.

    Model: R(S)/R_dry = a(λ) + (1 − a(λ))·exp(−c(λ)·S) on non-vegetation pixels, S the
    degree of saturation (Lobell & Asner, SSSA J. 66:722, 2002: exponential, similar across
    soils in S, saturating sooner in the VNIR and deepest in the SWIR), so SWIR darkens
    most (to 0.25–0.30 of dry), then NIR (0.52), then the visible (0.58–0.62); S varies
    smoothly over the field. Raw DN lose ``meta['black_level']`` first. Optional puddles settle in low-texture soil:
    water reflects little visible and almost no NIR. Vegetation pixels are bit-exact.
    Works in linear units (8-bit RGB photos are sRGB-decoded first).

    Parameters
    ----------
    moisture : float or (low, high)
        Mean degree of saturation S ∈ [0, 1] of the topsoil (0: dry, 1: saturated).
    patchiness : float
        Relative spatial variation of θ (a smooth random field), 0 = uniform.
    patch_size_px : float
        Correlation length of the moisture variation, pixels.
    puddle_fraction : float or (low, high)
        Fraction of the soil pixels turned into standing water (0 = none).
    threshold : float, optional
        Vegetation threshold (NDVI, or ExG for RGB).
    p : float
        Probability of applying.

    Targets: image; other targets pass through.
    """

    def __init__(
        self,
        moisture: float | tuple[float, float] = (0.3, 0.9),
        patchiness: float = 0.3,
        patch_size_px: float = 60.0,
        puddle_fraction: float | tuple[float, float] = 0.0,
        threshold: float | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.moisture = check_range(moisture, "moisture", low=0.0, high=1.0)
        self.patchiness = check_number(patchiness, "patchiness", low=0.0, high=1.0)
        self.patch_size_px = check_number(patch_size_px, "patch_size_px", low=1.0, low_inclusive=True)
        self.puddle_fraction = check_range(puddle_fraction, "puddle_fraction", low=0.0, high=0.5)
        self.threshold = None if threshold is None else check_number(threshold, "threshold", low=-1.0, high=1.0)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_vegetation_bands(sample, self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        return {
            "moisture": sample_uniform(rng, self.moisture),
            "patchiness": self.patchiness,
            "patch_size_px": self.patch_size_px,
            "puddle_fraction": sample_uniform(rng, self.puddle_fraction),
            "threshold": self.threshold,
            "seed": draw_seed(rng),
        }

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        veg = sample_vegetation(ctx, params["threshold"])
        ctx.veg = veg
        ctx.soil = ~veg if ctx.footprint is None else (~veg & ctx.footprint)
        ctx.wet = bool(ctx.soil.any())
        if ctx.wet:
            ctx.untouched = ~ctx.soil  # plants (and everything outside the footprint) come back bit-exact
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        x = working_copy(image, ctx)
        if not ctx.wet:  # no soil to wet
            return x
        m = wetness(ctx.veg, ctx.soil, params)
        frac = float(params["puddle_fraction"])
        if frac <= 0:  # reflectance is darkened in linear units
            def darken(lin, a, b):
                lin *= moisture_gain(ctx.wavelengths, m[a:b], lin.shape[-1])
                return lin

            return map_linear(x, ctx, darken)
        lin = to_linear_units(x, ctx)
        dry = lin.copy()
        lin *= moisture_gain(ctx.wavelengths, m, lin.shape[-1])
        y = _puddles(dry, lin, ctx.soil, frac, int(params["seed"]), ctx, params["patch_size_px"])
        return from_linear_units(y, ctx)


def wetness(veg: np.ndarray, soil: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
    """θ·weight per pixel: the moisture θ of the soil (a smooth random field around the mean),
    faded next to the leaves (soil right next to a leaf is partly leaf: a mixed pixel)."""
    m = feather(veg, 1.0)
    np.subtract(np.float32(1.0), m, out=m)
    np.multiply(m, soil, out=m)
    if params["patchiness"] > 0:
        field = smooth_field(veg.shape, seed=int(params["seed"]), correlation_px=params["patch_size_px"])
        theta = np.multiply(field, np.float32(params["patchiness"]), out=field)
        theta += np.float32(1.0)
        theta *= np.float32(params["moisture"])
        np.clip(theta, np.float32(0.0), np.float32(1.2), out=theta)
        m *= theta
    else:
        m *= np.float32(params["moisture"])
    return m


def moisture_gain(wavelengths_nm: np.ndarray, moisture: np.ndarray, channels: int) -> np.ndarray:
    """:func:`moisture_factor` as a C-contiguous H×W×C float32 array (blockwise, in place)."""
    a, c = _curve(wavelengths_nm)
    g = spread(np.negative(moisture, dtype=np.float32), channels)
    _fast.scale_bands(g, c)
    np.exp(g, out=g)
    _fast.scale_bands(g, 1 - a)
    g += a
    return g


def _puddles(x, y, soil, fraction, seed, ctx, size_px):
    """Standing water in the smoothest, lowest (random-field) soil areas."""
    from scipy.ndimage import uniform_filter

    lum = x[..., ctx.spectral].mean(axis=-1)
    m1 = uniform_filter(lum, 7)
    m2 = uniform_filter(lum * lum, 7)
    texture = np.sqrt(np.maximum(m2 - m1 * m1, 0)) / (np.abs(m1) + 1e-6)
    low = smooth_field(lum.shape, seed=seed ^ 0x9E37, correlation_px=max(4.0, size_px / 3))
    # rank: smooth soil in low ground first
    score = low + 4.0 * texture
    score = np.where(soil, score, np.inf)
    k = int(round(fraction * soil.sum()))
    if k <= 0:
        return y
    cut = np.partition(score[soil], k - 1)[k - 1]
    water = (score <= cut) & soil
    edge = feather(water, 1.0) * soil
    ratio = np.interp(ctx.wavelengths, PUDDLE_NM, PUDDLE_VALUES).astype(np.float32)
    wet = x * ratio[None, None, :]
    return y + edge[..., None] * (wet - y)
