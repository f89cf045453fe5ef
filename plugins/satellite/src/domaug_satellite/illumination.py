"""satellite.Illumination: another sun elevation and a drift of atmospheric brightness."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import Context, PixelTransform, check_number, check_range, sample_uniform, to_float

from . import band_ops, bands

DEFAULT_SOURCE_ELEVATION = 45.0


class Illumination(PixelTransform):
    """The same ground seen under a different sun elevation and a drifting atmosphere.

    Model: Lambertian ground radiance ∝ E₀·cos θ_z, so ground signal scales by
    ``cos θ_z' / cos θ_z = sin e' / sin e`` (solar elevation e); the path radiance
    (dark-object level, Chavez 1988) is not scaled. A per-band multiplicative drift
    (calibration / atmospheric transmittance) ``g_b ~ N(1, drift)`` and an additive
    path-radiance drift ``o_b ~ N(0, offset_drift)`` (reflectance units) are added.

    Parameters
    ----------
    sun_elevation_deg : float or (low, high)
        New sun elevation (default 25–70°).
    source_sun_elevation_deg : float, optional
        Sun elevation of the input; default ``meta["sun_elevation_deg"]``, else 45°.
    brightness_drift : float
        Std of the per-band gain drift (default 0.03).
    offset_drift : float
        Std of the per-band additive drift, reflectance units (default 0.005).

    Targets: image (any bands; uint8/uint16/float), valid (nodata kept).
    """

    #: windows agree with the whole (fields and noise keyed by absolute pixel coordinates)
    window_safe = True

    def __init__(self, sun_elevation_deg: float | Sequence[float] = (25.0, 70.0),
                 source_sun_elevation_deg: float | None = None, brightness_drift: float = 0.03,
                 offset_drift: float = 0.005, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.elevation = check_range(sun_elevation_deg, "sun_elevation_deg", low=1, high=90)
        self.source = None if source_sun_elevation_deg is None else check_number(
            source_sun_elevation_deg, "source_sun_elevation_deg", low=1, high=90)
        self.drift = check_number(brightness_drift, "brightness_drift", low=0, high=1)
        self.offset_drift = check_number(offset_drift, "offset_drift", low=0, high=1)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_raster(sample, self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        meta = sample.get("meta") or {}
        source = self.source or float(meta.get("sun_elevation_deg") or DEFAULT_SOURCE_ELEVATION)
        new = sample_uniform(rng, self.elevation)
        n = bands.n_bands(sample)
        values = bands.band_samples(sample)  # one pass over the image for both statistics
        gains, offsets = bands.reflectance_scaling(sample, values)
        dark = [p[0] for p in bands.band_percentiles(sample, [0.5], values)]
        return {
            "ratio": math.sin(math.radians(new)) / math.sin(math.radians(source)),
            "sun_elevation_deg": new, "source_sun_elevation_deg": source,
            "gain": [float(1.0 + self.drift * rng.standard_normal()) if self.drift else 1.0 for _ in range(n)],
            "offset": [float(self.offset_drift * rng.standard_normal()) / g if self.offset_drift else 0.0
                       for g in gains],
            "dark": dark,
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        lay = ctx.layout
        out = to_float(image)
        n = lay.n_channels
        ratio = float(params["ratio"])
        scale = [ratio * float(params["gain"][k]) for k in range(n)]
        # (x − d)·s + d + o  =  x·s + (d·(1 − s) + o), one tiled row per constant
        shift = [float(params["dark"][k]) * (1.0 - scale[k]) + float(params["offset"][k]) for k in range(n)]
        rows = band_ops.as_rows(out)
        width = lay.spatial_shape[1] if lay.spatial_shape else 1
        rows *= band_ops.tiled(scale, width, out.dtype)
        rows += band_ops.tiled(shift, width, out.dtype)
        return out
