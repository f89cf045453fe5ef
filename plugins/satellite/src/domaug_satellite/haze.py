"""satellite.Haze: a spatially varying aerosol layer with Ångström spectral dependence."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import (
    Context,
    ParameterError,
    PixelTransform,
    block_rows,
    check_number,
    check_range,
    draw_seed,
    row_blocks,
    sample_uniform,
    spread,
    to_float,
    value_range,
)

from . import band_ops, bands
from .coarse_fields import smooth_fractal

AIRLIGHT_MODES = ("auto", "bright", "dark_object")
#: reflectance of an optically thick aerosol layer used by airlight="auto" as a floor
THICK_HAZE_REFLECTANCE = 0.35


class Haze(PixelTransform):
    """Aerosol haze: contrast loss and path radiance, strongest in blue, weakest in NIR/SWIR.

    Model: Koschmieder scattering ``I = J·t + A·(1−t)`` with ``t_b = exp(−τ_b / cos θ)``
    and the Ångström law ``τ_b = τ_550·(λ_b/550 nm)^(−α)`` (He, Sun & Tang, CVPR 2009;
    Ångström 1929). τ_550 varies smoothly in space: ``τ_550·(1 + v·n(x))`` with n a
    low-frequency fractal noise field (sampled on a coarse grid and interpolated,
    :mod:`coarse_fields`: ≤ 1 % of its std from a per-pixel evaluation).

    Parameters
    ----------
    tau_550 : float or (low, high)
        Mean aerosol optical depth at 550 nm (default 0.2–0.8; 0.1 clear, > 1 thick haze).
    angstrom : float or (low, high)
        Ångström exponent α (default 1–2 for aerosol; 4 ≈ Rayleigh; 0 = grey).
    zenith_deg : float or (low, high)
        Slant-path zenith angle θ (default 0–30°).
    variability : float
        Relative spatial variation v of τ (default 0.4; τ is kept ≥ 0).
    haze_size_m : float or (low, high)
        Size of haze patches (default 5–30 km; without a geotransform, half the raster).
    airlight : "bright", "dark_object", a reflectance, or one reflectance per band
        Path radiance A_b at infinite depth. ``"auto"`` (default): reflectance 0.35 (an
        optically thick aerosol layer) in each band's DN scaling, so clouds already in the
        image do not set it; ``"bright"``: the 99.5th percentile of the band (He et al.
        estimate A from the brightest pixels); ``"dark_object"``: the
        band's 0.5th percentile is taken as the path radiance of an existing τ = 0.1
        layer (Chavez, RSE 24, 1988), ``A_b = d_b / (1 − t_b(0.1))``, capped at full
        scale; a number or list is in reflectance units (0–1).

    Wavelengths come from ``meta["wavelengths_nm"]`` or the band roles (defaults: blue
    490, green 560, red 665, nir 842, rededge 705, swir1 1610, swir2 2190 nm; 3 bands
    = R,G,B and 4 = R,G,B,NIR when unnamed). Targets: image (any band count; uint8,
    uint16, float), valid (nodata kept). Window-consistent (``meta["window_offset"]``).
    """

    #: windows agree with the whole (fields and noise keyed by absolute pixel coordinates)
    window_safe = True

    def __init__(self, tau_550: float | Sequence[float] = (0.2, 0.8),
                 angstrom: float | Sequence[float] = (1.0, 2.0),
                 zenith_deg: float | Sequence[float] = (0.0, 30.0),
                 variability: float = 0.4,
                 haze_size_m: float | Sequence[float] = (5000.0, 30000.0),
                 airlight: str | float | Sequence[float] = "auto",
                 p: float = 1.0) -> None:
        super().__init__(p=p)
        self.tau = check_range(tau_550, "tau_550", low=0)
        self.angstrom = check_range(angstrom, "angstrom", low=-1, high=5)
        self.zenith = check_range(zenith_deg, "zenith_deg", low=0, high=80)
        self.variability = check_number(variability, "variability", low=0, high=2)
        self.size = check_range(haze_size_m, "haze_size_m", low=0, low_inclusive=False)
        if isinstance(airlight, str):
            if airlight not in AIRLIGHT_MODES:
                raise ParameterError(
                    f"airlight must be one of {AIRLIGHT_MODES}, a reflectance or a list per band, got {airlight!r}")
        else:
            for v in ([airlight] if np.isscalar(airlight) else list(airlight)):
                check_number(v, "airlight", low=0, high=2)
        self.airlight = airlight

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_raster(sample, self.name_for_errors())
        n = bands.n_bands(sample)
        if not isinstance(self.airlight, str) and not np.isscalar(self.airlight) and len(self.airlight) != n:
            raise ParameterError(f"airlight has {len(self.airlight)} entries but the image has {n} bands")

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        meta = sample.get("meta") or {}
        tau = sample_uniform(rng, self.tau)
        alpha = sample_uniform(rng, self.angstrom)
        zenith = sample_uniform(rng, self.zenith)
        size_m = sample_uniform(rng, self.size)
        wl = bands.SATELLITE.wavelengths_nm(sample)
        pixel = bands.pixel_size_m(meta)
        _, full = bands.window_of(sample)
        scale_px = size_m / pixel if pixel else 0.5 * max(full)
        airlight = self._airlight(sample, wl, alpha, zenith)
        return {"seed": draw_seed(rng), "tau_550": tau, "angstrom": alpha, "zenith_deg": zenith,
                "variability": self.variability, "scale_px": max(2.0, scale_px),
                "wavelengths_nm": wl, "airlight": airlight}

    def _airlight(self, sample: Mapping[str, Any], wl: Sequence[float], alpha: float, zenith: float) -> list[float]:
        """Path radiance A_b at infinite depth per band, in DN (see the ``airlight`` parameter)."""
        gains, offsets = bands.reflectance_scaling(sample)
        lo, hi = value_range(sample["image"].dtype, sample.get("meta") or {})
        top = [hi if math.isfinite(hi) else (1.0 - o) / g for g, o in zip(gains, offsets)]
        if self.airlight == "auto":
            return [min((THICK_HAZE_REFLECTANCE - o) / g, t) for g, o, t in zip(gains, offsets, top)]
        if self.airlight == "bright":
            return [p[0] for p in bands.band_percentiles(sample, [99.5])]
        if self.airlight == "dark_object":
            mu = math.cos(math.radians(zenith))
            airlight = []
            for b, (d, w) in enumerate(zip(bands.band_percentiles(sample, [0.5]), wl)):
                t_ref = math.exp(-0.1 * (w / 550.0) ** -alpha / mu)
                z = -offsets[b] / gains[b]
                airlight.append(min(z + (d[0] - z) / (1.0 - t_ref), top[b]))
            return airlight
        refl = [self.airlight] * len(wl) if np.isscalar(self.airlight) else list(self.airlight)
        return [(float(r) - o) / g for r, o, g in zip(refl, offsets, gains)]

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        lay = ctx.layout
        (r0, c0), _ = bands.window_of(ctx)
        tau = smooth_fractal(lay.spatial_shape, (r0, c0), seed=int(params["seed"]), scale_px=float(params["scale_px"]),
                             octaves=3, persistence=0.5)  # low-frequency: from a coarse grid, window-exact
        tau *= np.float32(params["variability"])
        tau += np.float32(1.0)
        np.maximum(tau, 0.0, out=tau)
        tau *= np.float32(float(params["tau_550"]) / math.cos(math.radians(float(params["zenith_deg"]))))
        out = to_float(image)
        n = lay.n_channels
        width = lay.spatial_shape[1]
        # per band: t_b = exp(−k_b·τ), I = (J − A_b)·t_b + A_b, in row blocks of all bands
        k = [-(float(params["wavelengths_nm"][b]) / 550.0) ** (-float(params["angstrom"])) for b in range(n)]
        k_row = band_ops.tiled(k, width, out.dtype)
        a_row = band_ops.tiled([float(params["airlight"][b]) for b in range(n)], width, out.dtype)
        rows = band_ops.as_rows(out)
        t = np.empty((block_rows(rows.shape[0], rows.shape[1]), rows.shape[1]), out.dtype)
        for r0, r1 in row_blocks(0, rows.shape[0], rows.shape[1]):
            x, tb = rows[r0:r1], t[:r1 - r0]
            spread(tau[r0:r1], n, tb)
            tb *= k_row
            np.exp(tb, out=tb)
            x -= a_row
            x *= tb
            x += a_row  # J·t + A·(1 − t)
        return out
