"""satellite.CloudCover: clouds of a cloud type (cumulus, stratocumulus, cirrus) and their shadows."""

from __future__ import annotations

import math
import warnings
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import (
    Context,
    ParameterError,
    PixelTransform,
    check_number,
    check_range,
    draw_seed,
    sample_uniform,
    to_float,
    value_range,
)

from . import atmosphere, band_ops, bands, cloud_fields, cloud_model, cloud_ops

#: cloud types of the cloud model (:mod:`cloud_model`)
MODEL_PRESETS = tuple(cloud_model.CLOUD_TYPES)
#: deprecated noise-blob presets → (optical thickness per noise std, interior cap as multiple, default
#: coverage, octaves, persistence)
PRESETS = {
    "thick": ((20.0, 60.0), 3.0, (0.1, 0.5), 6, 0.55),
    "thin": ((1.0, 4.0), 1.5, (0.2, 0.6), 5, 0.5),
    "haze": ((0.4, 1.5), 1.5, (0.8, 1.0), 4, 0.4),
}
DEFAULT_PIXEL_M = 30.0
#: broken cumulus fields: beyond this cover the cells merge into a deck (stratocumulus)
MAX_CUMULUS_COVER = 0.5
#: aerosol optical depth at 550 nm of the clear sky whose skylight fills the shadows (default draw)
CLEAR_SKY_AOD = (0.1, 0.3)



class CloudCover(PixelTransform):
    """Clouds of a cloud type over the scene, and their shadows cast by the sun on the ground.

    Model: a cloud-top height field of the cloud type (:mod:`cloud_model`: cumulus cells
    0.2–2 km across, stratocumulus decks, cirrus streaks, sized in metres through the
    geotransform) cut at the cloud base that gives the requested coverage; the thickness
    above the base gives τ (adiabatic, τ ∝ D^5/3); two-stream reflectance
    R = (1−g)τ/(2 + (1−g)τ), g = 0.85, lit by the sun on the cloud-top facets
    (:mod:`cloud_fields`: sunlit flanks brighter, shaded flanks darker), combines with the
    ground by the adding method ``ρ' = C_b·R·F + T²·ρ / (1 − C_b·R·ρ)``, T = 1 − R (thin edges
    show the ground), C_b the thick-cloud spectrum (flat in the VNIR, low in the SWIR; ice
    lower still at 1.6 µm). The shadow is the same τ field shifted by h·tan(θ_z) towards
    azimuth φ+180° (Fmask geometry, Zhu & Woodcock, RSE 118, 2012): the ground there gets
    the skylight share f_b (∝ λ^-1.5) plus the sun's beam through the cloud, direct e^(−τ/μ0)
    and diffuse (together 1 − R(τ/μ0)): ``f_b + (1−f_b)·(1−R(τ/μ0))``, hidden under cloud.

    Parameters
    ----------
    coverage : float or (low, high)
        Fraction of the raster covered by cloud (cloud_mask > 0), in [0, 1]. Default by
        preset (cumulus 0.1–0.4, stratocumulus 0.6–0.95, cirrus 0.2–0.7). Cumulus cells cover
        at most about half a scene (more asks for a deck: a warning), and a raster only a few
        cells wide (≲ 5 km) shows the cells that happen to fall on it: less than asked.
    sun_azimuth_deg, sun_elevation_deg : float or (low, high)
        Sun position, azimuth clockwise from north (image north up unless the geotransform
        says otherwise). Default: ``meta["sun_azimuth_deg"]`` / ``meta["sun_elevation_deg"]``
        (e.g. from a Landsat MTL), else 100–170° and 30–65°.
    cloud_height_m : float or (low, high)
        Cloud height above ground, for the shadow (default by type: cumulus 600–1500 m,
        stratocumulus 500–1500 m, cirrus 8–11 km; 500–3000 m for the deprecated presets).
    pixel_size_m : float, optional
        Ground pixel size; default from ``meta["transform"]`` (metres, or degrees on a
        geographic CRS), else 30 m.
    preset : "cumulus" (default), "stratocumulus", "cirrus", or a list to draw from;
        "thick", "thin", "haze" are the deprecated noise-blob clouds.
    optical_thickness : float or (low, high), optional
        Cloud types: τ at the reference depth (cumulus 300 m: default 5–15; stratocumulus
        6–20; cirrus 1 km: 0.3–1.5). Deprecated presets: τ one noise std inside the edge.
    cloud_size_m : float or (low, high), optional
        Cloud types: the largest cell diameter (scales the type's sizes; cumulus 2 km,
        stratocumulus 2.5 km, cirrus 2.5 km for 6 km streak fields).
        Deprecated presets: size of the largest features (default 3–15 km).
    locality : float in [0, 1)
        Deprecated presets only: towards 1 clouds gather in isolated groups (default 0.3).
    cloud_reflectance : float or list per band, optional
        Thick-cloud reflectance (0–1 reflectance units); default by wavelength
        (:data:`cloud_ops.CLOUD_REFLECTANCE_TABLE`: ≈0.88 visible, 0.82 NIR, 0.55 SWIR1,
        0.35 SWIR2).
    skylight_fraction : float or (low, high), optional
        Diffuse share of irradiance at 550 nm that still lights shadows. Default: that of a
        clear sky at the sun elevation (:func:`atmosphere.diffuse_fraction`, AOD550 drawn in
        0.1–0.3): ≈ 0.13–0.27 at 65°, 0.22–0.43 at 30° (0.2–0.3 for the deprecated presets).

    Targets: image (any band count; uint8/uint16/float reflectance, scaled with
    :func:`bands.reflectance_scaling`), valid (nodata kept). Emits ``cloud_mask``
    (uint8: 0 clear, 1 thin cloud R < 0.4, 2 thick cloud R ≥ 0.4) and ``shadow_mask``
    (uint8: 1 where ≥ 10 % of the direct sun is blocked and no cloud is in front; 0 else).
    Both are 0 on nodata pixels.

    Windows: noise is evaluated in absolute pixel coordinates of the full raster
    (``meta["window_offset"]`` = (row0, col0), ``meta["full_shape"]`` = (rows, cols)),
    and the coverage threshold from the whole raster, so tiles join without seams.
    """

    #: windows agree with the whole (fields and noise keyed by absolute pixel coordinates)
    window_safe = True

    def __init__(self, coverage: float | Sequence[float] | None = None,
                 sun_azimuth_deg: float | Sequence[float] | None = None,
                 sun_elevation_deg: float | Sequence[float] | None = None,
                 cloud_height_m: float | Sequence[float] | None = None,
                 pixel_size_m: float | None = None,
                 preset: str | Sequence[str] = "cumulus",
                 optical_thickness: float | Sequence[float] | None = None,
                 cloud_size_m: float | Sequence[float] | None = None,
                 locality: float = 0.3,
                 cloud_reflectance: float | Sequence[float] | None = None,
                 skylight_fraction: float | Sequence[float] | None = None,
                 p: float = 1.0) -> None:
        super().__init__(p=p)
        presets = [preset] if isinstance(preset, str) else list(preset)
        if not presets or any(x not in PRESETS and x not in MODEL_PRESETS for x in presets):
            raise ParameterError(
                f"preset must be one of {list(MODEL_PRESETS) + list(PRESETS)} or a list of them, got {preset!r}")
        if any(x in PRESETS for x in presets):
            warnings.warn(f"satellite.CloudCover: the noise-blob presets {list(PRESETS)} are deprecated; use "
                          f"{list(MODEL_PRESETS)}", DeprecationWarning, stacklevel=3)
        self.presets = presets
        self.coverage = None if coverage is None else check_range(coverage, "coverage", low=0, high=1)
        if "cumulus" in presets and self.coverage is not None and self.coverage[1] > MAX_CUMULUS_COVER:
            warnings.warn(f"satellite.CloudCover: cumulus cells cover at most about {MAX_CUMULUS_COVER} of a scene "
                          f"(coverage {coverage!r} asked); use preset='stratocumulus' for a deck", UserWarning,
                          stacklevel=3)
        self.azimuth = None if sun_azimuth_deg is None else check_range(sun_azimuth_deg, "sun_azimuth_deg", low=-360, high=720)
        self.elevation = None if sun_elevation_deg is None else check_range(
            sun_elevation_deg, "sun_elevation_deg", low=1, high=90)
        self.height = None if cloud_height_m is None else check_range(cloud_height_m, "cloud_height_m", low=0)
        self.pixel_size_m = None if pixel_size_m is None else check_number(
            pixel_size_m, "pixel_size_m", low=0, low_inclusive=False)
        self.tau = None if optical_thickness is None else check_range(
            optical_thickness, "optical_thickness", low=0, low_inclusive=False)
        self.size = None if cloud_size_m is None else check_range(cloud_size_m, "cloud_size_m", low=0,
                                                                  low_inclusive=False)
        self.locality = check_number(locality, "locality", low=0, high=1, high_inclusive=False)
        if cloud_reflectance is not None:
            values = [cloud_reflectance] if np.isscalar(cloud_reflectance) else list(cloud_reflectance)
            for v in values:
                check_number(v, "cloud_reflectance", low=0, high=2)
        self.cloud_reflectance = cloud_reflectance
        self.skylight = None if skylight_fraction is None else check_range(
            skylight_fraction, "skylight_fraction", low=0, high=1)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_raster(sample, self.name_for_errors())
        n = bands.n_bands(sample)
        if self.cloud_reflectance is not None and not np.isscalar(self.cloud_reflectance) \
                and len(self.cloud_reflectance) != n:
            raise ParameterError(
                f"cloud_reflectance has {len(self.cloud_reflectance)} entries but the image has {n} bands")

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        meta = sample.get("meta") or {}
        preset = self.presets[int(rng.integers(len(self.presets)))] if len(self.presets) > 1 else self.presets[0]
        if preset in PRESETS:
            return self._legacy_params(rng, sample, preset)
        ct = cloud_model.CLOUD_TYPES[preset]
        coverage = sample_uniform(rng, self.coverage or ct.coverage)
        tau_ref = sample_uniform(rng, self.tau or ct.tau_ref)
        az = sample_uniform(rng, self.azimuth or _from_meta(meta, "sun_azimuth_deg", (100.0, 170.0)))
        el = sample_uniform(rng, self.elevation or _from_meta(meta, "sun_elevation_deg", (30.0, 65.0)))
        height = sample_uniform(rng, self.height or ct.base_m)
        largest = 2.0 * max((hi for _, hi in ct.levels_m), default=1250.0)  # stratocumulus cells: 2.5 km
        scale = sample_uniform(rng, self.size) / largest if self.size else 1.0
        skylight = sample_uniform(rng, self.skylight) if self.skylight else atmosphere.diffuse_fraction(
            550.0, aod_550=sample_uniform(rng, CLEAR_SKY_AOD), sun_zenith_deg=90.0 - el)
        pixel = self.pixel_size_m or bands.pixel_size_m(meta, DEFAULT_PIXEL_M)
        gains, offsets = bands.reflectance_scaling(sample)
        wl = bands.SATELLITE.wavelengths_nm(sample)
        _, full = bands.window_of(sample)
        model = cloud_fields.draw_model(rng, preset, pixel, tau_ref=tau_ref, coverage=coverage, size_scale=scale,
                                        full_shape=full)
        return {
            "seed": draw_seed(rng), "preset": preset, **model,
            "sun_azimuth_deg": az, "sun_elevation_deg": el, "cloud_height_m": height,
            "shadow_shift_px": list(self._shadow_shift(meta, az, el, height, pixel)),
            "cloud_reflectance": self._cloud_reflectance(wl, ice=ct.ice), "dn_gain": gains,
            "dn_offset": [o / g for o, g in zip(offsets, gains)],
            "skylight": [cloud_ops.diffuse_fraction(w, skylight) for w in wl],
        }

    def _legacy_params(self, rng: np.random.Generator, sample: Mapping[str, Any], preset: str) -> dict:
        """The draw of the deprecated noise-blob presets (unchanged)."""
        meta = sample.get("meta") or {}
        tau_range, cap, cov_range, octaves, persistence = PRESETS[preset]
        coverage = sample_uniform(rng, self.coverage or cov_range)
        tau_edge = sample_uniform(rng, self.tau or tau_range)
        az = sample_uniform(rng, self.azimuth or _from_meta(meta, "sun_azimuth_deg", (100.0, 170.0)))
        el = sample_uniform(rng, self.elevation or _from_meta(meta, "sun_elevation_deg", (30.0, 65.0)))
        height = sample_uniform(rng, self.height or (500.0, 3000.0))
        size_m = sample_uniform(rng, self.size or (3000.0, 15000.0))
        skylight = sample_uniform(rng, self.skylight or (0.2, 0.3))
        pixel = self.pixel_size_m or bands.pixel_size_m(meta, DEFAULT_PIXEL_M)
        gains, offsets = bands.reflectance_scaling(sample)
        wl = bands.SATELLITE.wavelengths_nm(sample)
        return {
            "seed": draw_seed(rng), "preset": preset, "coverage": coverage, "tau_edge": tau_edge,
            "tau_cap": tau_edge * cap, "octaves": octaves, "persistence": persistence,
            "locality": self.locality, "scale_px": max(2.0, size_m / pixel),
            "sun_azimuth_deg": az, "sun_elevation_deg": el, "cloud_height_m": height,
            "shadow_shift_px": list(self._shadow_shift(meta, az, el, height, pixel)),
            "cloud_reflectance": self._cloud_reflectance(wl), "dn_gain": gains,
            "dn_offset": [o / g for o, g in zip(offsets, gains)],
            "skylight": [cloud_ops.diffuse_fraction(w, skylight) for w in wl],
        }

    def _shadow_shift(self, meta: Mapping[str, Any], az: float, el: float, height: float,
                      pixel: float) -> tuple[float, float]:
        """(rows, cols) from a cloud to its shadow on the raster grid."""
        east, north = cloud_ops.shadow_shift_m(az, el, height)
        if self.pixel_size_m is not None:  # explicit pixel size: north-up square pixels
            return -north / pixel, east / pixel
        return bands.ground_to_pixel(meta, east, north, DEFAULT_PIXEL_M)

    def _cloud_reflectance(self, wavelengths_nm: Sequence[float], ice: bool = False) -> list[float]:
        """Thick-cloud reflectance per band: given, or by wavelength (water or ice)."""
        if self.cloud_reflectance is None:
            return [cloud_ops.cloud_reflectance(w, ice=ice) for w in wavelengths_nm]
        if np.isscalar(self.cloud_reflectance):
            return [float(self.cloud_reflectance)] * len(wavelengths_nm)
        return [float(v) for v in self.cloud_reflectance]

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        """The cloud and shadow fields of this raster (window), and the masks they make."""
        ctx = super().prepare(sample, params)
        ctx.t_cloud = None
        if params.get("model") == "cloud_type":
            (r0, c0), full = bands.window_of(ctx)
            ctx.r_cloud, ctx.t_cloud, ctx.blocked, cloud, shadow = cloud_fields.fields(
                ctx.layout.spatial_shape, (r0, c0), full, params)
        else:
            ctx.r_cloud, ctx.blocked, cloud, shadow = self._fields(ctx, params)
        if ctx.valid is not None:
            cloud[~ctx.valid] = 0
            shadow[~ctx.valid] = 0
        ctx.new_targets["cloud_mask"] = cloud
        ctx.new_targets["shadow_mask"] = shadow
        return ctx

    # -- the fields of the deprecated presets ---------------------------------------------
    def _fields(self, ctx: Context, params: Mapping[str, Any]):
        """(cloud reflectance, blocked share of the direct beam, cloud_mask, shadow_mask)."""
        (r0, c0), full = bands.window_of(ctx)
        h, w = ctx.layout.spatial_shape
        sr, sc = (int(round(v)) for v in params["shadow_shift_px"])
        kw = dict(seed=int(params["seed"]), scale_px=float(params["scale_px"]), octaves=int(params["octaves"]),
                  persistence=float(params["persistence"]), locality=float(params["locality"]))
        union = (h + abs(sr)) * (w + abs(sc))
        if union <= 2 * h * w:
            top, left = r0 + min(0, -sr), c0 + min(0, -sc)
            n = cloud_ops.noise_field((h + abs(sr), w + abs(sc)), (top, left), **kw)
            n_here = n[r0 - top:r0 - top + h, c0 - left:c0 - left + w]
            n_src = n[r0 - sr - top:r0 - sr - top + h, c0 - sc - left:c0 - sc - left + w]
        else:
            n_here = cloud_ops.noise_field((h, w), (r0, c0), **kw)
            n_src = cloud_ops.noise_field((h, w), (r0 - sr, c0 - sc), **kw)
        exact = h * w <= cloud_ops.EXACT_QUANTILE_PX  # huge rasters: the coarse grid, as their windows do
        whole = n_here if exact and (r0, c0) == (0, 0) and tuple(full) == (h, w) else None
        thr = cloud_ops.threshold_for_coverage(whole, float(params["coverage"]), full_shape=full,
                                               tau_edge=float(params["tau_edge"]),
                                               tau_cap=float(params["tau_cap"]), **kw)
        mu0 = math.sin(math.radians(float(params["sun_elevation_deg"])))
        return cloud_ops.cloud_optics(n_here, n_src, thr, float(params["tau_edge"]), float(params["tau_cap"]), mu0)

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        out = to_float(image)
        lo, hi = value_range(image.dtype, ctx.get("meta"))
        n = ctx.layout.n_channels
        cloud_ops.cover_bands(
            band_ops.as_rows(out), ctx.r_cloud, ctx.blocked,
            gain=[float(params["dn_gain"][b]) for b in range(n)],
            zero=[-float(params["dn_offset"][b]) for b in range(n)],
            cloud=[float(params["cloud_reflectance"][b]) for b in range(n)],
            skylight=[float(params["skylight"][b]) for b in range(n)], lo=lo, hi=hi, t_cloud=ctx.t_cloud)
        return out


def _from_meta(meta: Mapping[str, Any], key: str, default: tuple[float, float]) -> tuple[float, float]:
    """``meta[key]`` as a fixed range, or ``default``."""
    return (meta[key],) * 2 if meta.get(key) is not None else default
