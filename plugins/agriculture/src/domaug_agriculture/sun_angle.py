"""agriculture.SunAngle: sunny vs overcast light, sun-angle plant shadows, vignetting."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import (Context, ParameterError, as_hwc, check_number, check_range, power_in_place, row_blocks,
                        sample_uniform, spread)

from . import _fast, bands, canopy_model, frame_shadows, light
from ._base import AgriPixelTransform, from_linear_units, to_linear_units, working_copy
from .vegetation import feather, sample_vegetation


class SunAngle(AgriPixelTransform):
    """Illumination: sun height and direction, sunny or overcast sky, camera vignetting.

    Model: clear-sky direct and diffuse irradiance per band from Rayleigh and aerosol
    optical depths (single scattering, after Bird & Riordan 1986; :func:`light.clear_sky`),
    an overcast fraction turning direct sun into spectrally neutral cloud light; plants of
    height h cast shadows of length h·tan θz / GSD pixels away from the sun azimuth, in
    which only the diffuse light remains (bluer); auto-exposure keeps the mean level, a
    global gain, and radial vignetting 1 − v·ρ² as on multispectral cameras. Sunlit band
    ratios barely move (|ΔNDVI| < 0.01 on vegetation). 8-bit RGB is sRGB-coded (and may
    also get a tone-curve gamma); uint16/float DN are linear (``meta['black_level']`` removed).

    Parameters
    ----------
    sun_zenith_deg, sun_azimuth_deg : float or (low, high)
        Sun zenith angle (0 = overhead) and azimuth (clockwise from north = image up), degrees.
        ``sun_azimuth_deg="auto"`` (default): the azimuth of the sun that cast the frame's own
        plant shadows when they show one (:mod:`domaug_agriculture.frame_shadows`; new shadows
        then extend the old ones instead of doubling them), else drawn in 0–360.
    overcast : float or (low, high)
        Cloud cover fraction 0 (clear sun) … 1 (overcast: no direct sun, no shadows).
    plant_height_m : float or (low, high)
        Canopy height above the soil, metres.
    gain : float or (low, high)
        Exposure drift: a factor on every band.
    gamma : float or (low, high)
        Tone-curve drift of display-coded photos, (linear light)^gamma; raw linear DN
        (multispectral, 16-bit, float) ignore it (recorded, not applied).
    vignetting : float or (low, high)
        Brightness lost in the frame corners (0 = none, 0.3 = 30 %).
    gsd_m : float, optional
        Ground sample distance, metres; default meta ``gsd_m``/geotransform, else 0.02.
    aod550 : float or (low, high)
        Aerosol optical depth at 550 nm (clear rural air 0.05, hazy 0.3).
    p : float
        Probability of applying.

    Targets: image; other targets pass through.
    """

    def __init__(
        self,
        sun_zenith_deg: float | tuple[float, float] = (25.0, 70.0),
        sun_azimuth_deg: float | tuple[float, float] | str = "auto",
        overcast: float | tuple[float, float] = (0.0, 0.8),
        plant_height_m: float | tuple[float, float] = (0.1, 0.5),
        gain: float | tuple[float, float] = (0.85, 1.15),
        gamma: float | tuple[float, float] = (0.9, 1.1),
        vignetting: float | tuple[float, float] = (0.0, 0.3),
        gsd_m: float | None = None,
        aod550: float | tuple[float, float] = (0.05, 0.3),
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.sun_zenith_deg = check_range(sun_zenith_deg, "sun_zenith_deg", low=0.0, high=85.0)
        if isinstance(sun_azimuth_deg, str) and sun_azimuth_deg != "auto":
            raise ParameterError(f"sun_azimuth_deg must be a number, a (low, high) range or 'auto', got "
                                 f"{sun_azimuth_deg!r}")
        self.sun_azimuth_deg = (sun_azimuth_deg if sun_azimuth_deg == "auto"
                                else check_range(sun_azimuth_deg, "sun_azimuth_deg", low=-360.0, high=720.0))
        self.overcast = check_range(overcast, "overcast", low=0.0, high=1.0)
        self.plant_height_m = check_range(plant_height_m, "plant_height_m", low=0.0, high=50.0)
        self.gain = check_range(gain, "gain", low=0.0, low_inclusive=False, high=10.0)
        self.gamma = check_range(gamma, "gamma", low=0.2, high=5.0)
        self.vignetting = check_range(vignetting, "vignetting", low=0.0, high=0.9)
        self.aod550 = check_range(aod550, "aod550", low=0.0, high=3.0)
        self.gsd_m = None if gsd_m is None else check_number(gsd_m, "gsd_m", low=0.0, low_inclusive=False)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        zenith = sample_uniform(rng, self.sun_zenith_deg)
        height = sample_uniform(rng, self.plant_height_m)
        gsd = self.gsd_m if self.gsd_m is not None else bands.gsd_of(sample.get("meta"))
        return {
            "sun_zenith_deg": zenith,
            "sun_azimuth_deg": self._azimuth(rng, sample),
            "overcast": sample_uniform(rng, self.overcast),
            "shadow_length_px": min(height * math.tan(math.radians(zenith)) / gsd, 400.0),
            "gain": sample_uniform(rng, self.gain),
            "gamma": sample_uniform(rng, self.gamma),
            "vignetting": sample_uniform(rng, self.vignetting),
            "aod550": sample_uniform(rng, self.aod550),
        }

    def _azimuth(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> float:
        """The drawn azimuth, or with "auto" the frame's own when its shadows show one (else drawn in 0–360)."""
        drawn = sample_uniform(rng, (0.0, 360.0) if self.sun_azimuth_deg == "auto" else self.sun_azimuth_deg)
        if self.sun_azimuth_deg != "auto" or not _has_vegetation_bands(bands.roles(sample)):
            return drawn
        frame = AgriPixelTransform.prepare(self, sample, {})
        own = frame_shadows.frame_sun_azimuth(as_hwc(frame["image"]), frame, frame.roles, frame.coded,
                                              frame.black_level, frame.footprint)
        return drawn if own is None else float(own)

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        # light multiplies in linear units: display-coded 8-bit photos are decoded, raw DN
        # lose their black level (meta 'black_level')
        lin = to_linear_units(working_copy(image, ctx), ctx)
        direct, diffuse = irradiance(ctx.wavelengths, params)
        total = (direct + diffuse).astype(np.float32)
        # auto-exposure keeps the mean level: only the colour and contrast change
        total /= np.float32(total[ctx.spectral].mean())
        per_band = total * np.float32(params["gain"])
        shade, lost = plant_shade(ctx, params, direct, diffuse)
        v = light.vignette(lin.shape[:2], params["vignetting"]) if params["vignetting"] > 0 else None
        if shade is not None and v is not None:
            np.multiply(shade, v, out=shade)  # v·(1 − s·(1 − keep)) = v − (v·s)·(1 − keep)
        # a tone-curve drift (gamma) only exists in display-coded photos; raw sensors are linear
        gamma = float(params["gamma"]) if ctx.coded else 1.0
        for a, b in row_blocks(0, lin.shape[0], lin.shape[1] * lin.shape[2], _fast.BLOCK_VALUES):
            _light_rows(lin[a:b], per_band, gain_rows(shade, lost, v, a, b, lin.shape[-1]), gamma)
        return from_linear_units(lin, ctx, clip=False)


def irradiance(wavelengths_nm: np.ndarray, params: Mapping[str, Any]) -> tuple[np.ndarray, np.ndarray]:
    """(direct, diffuse) horizontal irradiance per band relative to a clear sky with the sun at 30° zenith.

    Clear sky from :func:`light.clear_sky`; an overcast fraction o removes o of the direct
    and clear-sky diffuse light and adds o·T of the clear-sky global light as spectrally
    neutral cloud light (T = :data:`light.OVERCAST_TRANSMITTANCE`; clouds are white).
    """
    aod = float(params.get("aod550", 0.15))
    o = float(params["overcast"])
    direct, diffuse = light.clear_sky(wavelengths_nm, params["sun_zenith_deg"], aod)
    ref = np.add(*light.clear_sky(wavelengths_nm, 30.0, aod))
    cloud_light = o * light.OVERCAST_TRANSMITTANCE * (direct + diffuse)
    return direct * (1.0 - o) / ref, (diffuse * (1.0 - o) + cloud_light) / ref


def plant_shade(ctx: Context, params: Mapping[str, Any], direct: np.ndarray, diffuse: np.ndarray):
    """(shadows of the plants on the soil s ∈ [0, 1] per pixel, per-band gain − 1 in them: skylight
    and light from the sunlit surroundings are left), or (None, None) under overcast, a high sun,
    without plants, or on a raw multi-camera capture (``meta['band_registration'] == 'raw'``: its
    bands are not co-registered, so a shadow drawn from its plant mask would sit in the wrong place)."""
    length = float(params["shadow_length_px"])
    if float(params["overcast"]) >= 1.0 or length < 0.5 or not _has_vegetation_bands(ctx.roles) \
            or (ctx.meta or {}).get("band_registration") == "raw":
        return None, None
    veg = sample_vegetation(ctx)
    drow, dcol = light.shadow_offset(length, params["sun_azimuth_deg"])
    # the ground already in the frame's own shadows keeps its (skylight-only) light
    old = frame_shadows.ground_shadows(frame_shadows.frame_brightness(as_hwc(ctx["image"]), ctx.roles, ctx.coded,
                                                                      ctx.black_level), veg, ctx.footprint)
    s = feather(light.cast_shadow(veg, drow, dcol) & ~veg & ~old, 0.7)
    np.multiply(s, ~veg, out=s)
    fp = ctx.footprint
    cover = float(veg.mean()) if fp is None else (float(veg[fp].mean()) if fp.any() else 0.0)
    keep = shade_keep(ctx.wavelengths, direct, diffuse, cover)
    return s, (keep - 1.0).astype(np.float32)


#: share of the lower view of a point in a plant's shadow taken by the sunlit plants and soil around it
ADJACENT_VIEW = 0.5


def shade_keep(wavelengths_nm: np.ndarray, direct: np.ndarray, diffuse: np.ndarray, cover: float) -> np.ndarray:
    """Light kept in a plant's shadow, per band: f_sky + F·ρ_env (fraction of the sunlit ground's).

    Skylight f_sky = diffuse/(direct + diffuse), plus the sunlight reflected onto it by the
    surroundings, F·ρ_env(λ), ρ_env = c·GV(λ) + (1 − c)·Soil(λ) (the canopy model's endmembers,
    c = the frame's plant cover, F = :data:`ADJACENT_VIEW`): shade beside plants keeps much
    more NIR than skylight alone (measured on the MicaSense capture: shadow/sunlit soil
    0.29, 0.26, 0.20, 0.31, 0.26 in blue, green, red, NIR, red edge).
    """
    gv, _, soil = canopy_model.spectra(wavelengths_nm)
    env = cover * gv + (1.0 - cover) * soil
    return np.minimum(diffuse / (direct + diffuse) + ADJACENT_VIEW * env, 1.0)


def gain_rows(shade, lost, vignette, a: int, b: int, channels: int) -> np.ndarray | None:
    """The H×W×C gain map of rows ``a:b`` before the per-band gains: shade (per band) × vignetting (per pixel)."""
    if shade is not None:
        gain_map = spread(shade[a:b], channels, np.empty((b - a, shade.shape[1], channels), np.float32))
        _fast.scale_bands(gain_map, lost)  # 1 − s·(1 − keep) per band (times v)
        if vignette is None:
            gain_map += np.float32(1.0)
        else:
            gain_map += spread(vignette[a:b], channels)
        return gain_map
    if vignette is not None:
        return spread(vignette[a:b], channels)
    return None


def _light_rows(block: np.ndarray, per_band: np.ndarray, gain_map: np.ndarray | None, gamma: float) -> None:
    """Light one block of rows (linear units, ≥ 0) in place: gains, then the exposure gamma (coded photos)."""
    if gain_map is None:
        _fast.scale_bands(block, per_band)
    else:
        _fast.scale_bands(gain_map, per_band)
        np.multiply(block, gain_map, out=block)
    if abs(gamma - 1.0) > 1e-6:
        power_in_place(block, np.float32(gamma))  # (γ rounded to float32, also for float64 data)


def _has_vegetation_bands(roles: Mapping[str, int]) -> bool:
    return {"red", "nir"} <= set(roles) or {"red", "green", "blue"} <= set(roles)
