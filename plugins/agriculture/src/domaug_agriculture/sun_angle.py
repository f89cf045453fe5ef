"""agriculture.SunAngle: sunny vs overcast light, sun-angle plant shadows, vignetting."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.ops.intensity import power_in_place
from domaug.params import check_number, check_range, sample_uniform

from . import _fast, bands, light
from ._base import AgriPixelTransform
from .vegetation import feather, sample_vegetation


class SunAngle(AgriPixelTransform):
    """Illumination: sun height and direction, sunny or overcast sky, camera vignetting.

    Model: horizontal irradiance = direct·cos θz·(1 − overcast) + skylight, skylight share
    ∝ λ⁻² (Rayleigh sky, so shade and overcast light are bluer); plants of height h cast
    shadows of length h·tan θz / GSD pixels away from the sun azimuth, in which only the
    skylight remains; a global gain and gamma (exposure drift) and radial vignetting
    1 − v·ρ² as on multispectral cameras. 8-bit RGB is treated as sRGB-coded,
    uint16/float DN as linear.

    Parameters
    ----------
    sun_zenith_deg, sun_azimuth_deg : float or (low, high)
        Sun zenith angle (0 = overhead) and azimuth (clockwise from north = image up), degrees.
    overcast : float or (low, high)
        Cloud cover fraction 0 (clear sun) … 1 (overcast: no direct sun, no shadows).
    plant_height_m : float or (low, high)
        Canopy height above the soil, metres.
    gain, gamma : float or (low, high)
        Exposure drift: output = (gain·x)^gamma on normalised values.
    vignetting : float or (low, high)
        Brightness lost in the frame corners (0 = none, 0.3 = 30 %).
    gsd_m : float, optional
        Ground sample distance, metres; default meta ``gsd_m``/geotransform, else 0.02.
    p : float
        Probability of applying.

    Targets: image; other targets pass through.
    """

    def __init__(
        self,
        sun_zenith_deg: float | tuple[float, float] = (25.0, 70.0),
        sun_azimuth_deg: float | tuple[float, float] = (0.0, 360.0),
        overcast: float | tuple[float, float] = (0.0, 0.8),
        plant_height_m: float | tuple[float, float] = (0.1, 0.5),
        gain: float | tuple[float, float] = (0.85, 1.15),
        gamma: float | tuple[float, float] = (0.9, 1.1),
        vignetting: float | tuple[float, float] = (0.0, 0.3),
        gsd_m: float | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.sun_zenith_deg = check_range(sun_zenith_deg, "sun_zenith_deg", low=0.0, high=85.0)
        self.sun_azimuth_deg = check_range(sun_azimuth_deg, "sun_azimuth_deg", low=-360.0, high=720.0)
        self.overcast = check_range(overcast, "overcast", low=0.0, high=1.0)
        self.plant_height_m = check_range(plant_height_m, "plant_height_m", low=0.0, high=50.0)
        self.gain = check_range(gain, "gain", low=0.0, low_inclusive=False, high=10.0)
        self.gamma = check_range(gamma, "gamma", low=0.2, high=5.0)
        self.vignetting = check_range(vignetting, "vignetting", low=0.0, high=0.9)
        self.gsd_m = None if gsd_m is None else check_number(gsd_m, "gsd_m", low=0.0, low_inclusive=False)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        zenith = sample_uniform(rng, self.sun_zenith_deg)
        height = sample_uniform(rng, self.plant_height_m)
        gsd = self.gsd_m if self.gsd_m is not None else bands.gsd_of(sample.get("meta"))
        return {
            "sun_zenith_deg": zenith,
            "sun_azimuth_deg": sample_uniform(rng, self.sun_azimuth_deg),
            "overcast": sample_uniform(rng, self.overcast),
            "shadow_length_px": min(height * math.tan(math.radians(zenith)) / gsd, 400.0),
            "gain": sample_uniform(rng, self.gain),
            "gamma": sample_uniform(rng, self.gamma),
            "vignetting": sample_uniform(rng, self.vignetting),
        }

    def apply_to_bands(self, x, params, sample, ctx):
        # light adds and multiplies in linear units: display-coded 8-bit photos are decoded;
        # linear DN only need the 1/full-scale factor, folded into the per-band gains below
        coded = ctx["coded"]
        if coded:
            lin, unit = self.to_linear(x, ctx), 1.0
        else:
            lin, unit = x, 1.0 / ctx["full_scale"]
            if sample["image"].dtype.kind in "fi":
                np.maximum(lin, 0.0, out=lin)
        sky = light.skylight_fraction(ctx["wavelengths"])
        o = float(params["overcast"])
        cz = math.cos(math.radians(params["sun_zenith_deg"]))
        cz_ref = math.cos(math.radians(30.0))
        # per-band irradiance relative to a clear sky with the sun at 30° zenith
        direct = (1.0 - sky) * (1.0 - o) * cz / cz_ref
        diffuse = sky * (1.0 + 0.5 * o)  # clouds add some diffuse light
        irradiance = (direct + diffuse).astype(np.float32)
        # auto-exposure keeps the mean level: only the colour and contrast change
        irradiance /= np.float32(irradiance[ctx["spectral"]].mean())
        per_band = irradiance * np.float32(params["gain"] * unit)
        # one H×W×C gain map per block of rows: shade (per band) × vignetting (per pixel) × irradiance·gain (per band)
        s = v = None
        length = float(params["shadow_length_px"])
        if o < 1.0 and length >= 0.5 and _has_vegetation_bands(ctx["roles"]):
            veg = sample_vegetation(sample)
            drow, dcol = light.shadow_offset(length, params["sun_azimuth_deg"])
            shade = light.cast_shadow(veg, drow, dcol) & ~veg
            s = feather(shade, 0.7)
            np.multiply(s, ~veg, out=s)
            lost = (diffuse / (direct + diffuse)).astype(np.float32) - np.float32(1.0)  # skylight only in shade
        if params["vignetting"] > 0:
            v = light.vignette(lin.shape[:2], params["vignetting"])
            if s is not None:
                np.multiply(s, v, out=s)  # v·(1 − s·(1 − keep)) = v − (v·s)·(1 − keep)
        gamma = float(params["gamma"])
        back = None if coded else np.float32(ctx["full_scale"])
        channels = lin.shape[-1]
        for a, b in _fast.row_blocks(0, lin.shape[0], lin.shape[1] * channels):
            block = lin[a:b]
            gain_map = None
            if s is not None:
                gain_map = _fast.spread(s[a:b], channels)  # 1 − s·(1 − keep) per band (times v)
                _fast.scale_bands(gain_map, lost)
                if v is None:
                    gain_map += np.float32(1.0)
                else:
                    gain_map += _fast.spread(v[a:b], channels)
            elif v is not None:
                gain_map = _fast.spread(v[a:b], channels)
            if gain_map is None:
                _fast.scale_bands(block, per_band)
            else:
                _fast.scale_bands(gain_map, per_band)
                np.multiply(block, gain_map, out=block)
            # block ≥ 0 here (non-negative input times positive gains)
            if abs(gamma - 1.0) > 1e-6:
                power_in_place(block, np.float32(gamma))  # (γ rounded to float32, also for float64 data)
            if back is not None:
                block *= back
        return self.from_linear(lin, ctx) if coded else lin


def _has_vegetation_bands(roles: Mapping[str, int]) -> bool:
    return {"red", "nir"} <= set(roles) or {"red", "green", "blue"} <= set(roles)
