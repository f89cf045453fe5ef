"""satellite.Striping: detector-to-detector gain/offset stripes, dead lines, SLC-off gaps."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import (
    Context,
    ParameterError,
    PixelTransform,
    avoid_nodata,
    check_choice,
    check_number,
    check_range,
    draw_seed,
    row_blocks,
    sample_uniform,
    to_float,
    value_range,
)

from . import band_ops, bands, ground_track, sensor_presets
from .pixel_random import pixel_normals, pixel_uniform


def slc_gap_mask(shape, offset, full_shape, period: float, max_gap: float, shear: float) -> np.ndarray:
    """Landsat-7 SLC-off-like gaps: wedge stripes, 0 px wide at the scene centre column,
    ``max_gap`` px at the left/right edges, repeating every ``period`` rows, slightly
    sheared (the scan-line corrector failure; USGS, "SLC-off products", 2003)."""
    h, w = shape
    rows = np.arange(offset[0], offset[0] + h, dtype=np.float64)[:, None]
    cols = np.arange(offset[1], offset[1] + w, dtype=np.float64)[None, :]
    half = max(full_shape[1] / 2.0, 1.0)
    width = max_gap * np.abs(cols + 0.5 - half) / half
    phase = np.mod(rows + shear * cols, period)
    return phase < width


DIRECTIONS = ("along_track", "columns", "rows")


class Striping(PixelTransform):
    """Push-broom (or whisk-broom) striping: per-detector gain and offset, dead lines, gaps.

    Model: each detector has its own calibration residual, ``ρ' = g_d·ρ + o_d`` with
    ``g_d ~ N(1, gain_std)``, ``o_d ~ N(0, offset_std)`` per band (Gadallah et al., IJRS
    21(12), 2000). A push-broom detector sees one line along the ground track, which on a
    north-up map product runs at the orbit's heading (Landsat 8 at 30° N: 12.8° off north,
    :mod:`ground_track`), so pixel (r, c) belongs to detector ⌊r·sin h + c·cos h⌋ (h the
    track azimuth from grid north). Dead detectors give a line at the band's lowest value;
    optional Landsat-7 SLC-off wedge gaps are written as nodata (``valid`` updated).

    Parameters
    ----------
    direction : "along_track" (default), "columns" (stripes exactly vertical) or "rows" (whisk-broom)
    heading_deg : float or (low, high), optional
        Along-track azimuth (° clockwise from grid north). Default ``meta["heading_deg"]``,
        else from the sensor's orbit at the raster's latitude (georeferenced rasters), else 0.
    sensor : "auto" or a preset of :mod:`sensor_presets` (gain/offset spreads and orbit)
    gain_std : float, optional
        Relative gain spread between detectors (default by preset: OLI and MSI 0.003, generic
        0.005, PlanetScope 0.01).
    offset_std : float, optional
        Offset spread, reflectance units (default by preset, 0.0002–0.001).
    dead_line_fraction : float
        Fraction of detectors that are dead (default 0).
    slc_off : bool
        Add SLC-off gaps (default False); ``gap_period_px`` (35) and ``max_gap_px`` (14).

    Targets: image (any bands, any dtype), valid (kept; gaps become invalid, and
    ``meta["nodata"]`` is set to 0 when absent). Keyed by absolute columns/rows.
    """

    #: windows agree with the whole (fields and noise keyed by absolute pixel coordinates)
    window_safe = True

    def __init__(self, direction: str = "along_track", gain_std: float | None = None,
                 offset_std: float | None = None, dead_line_fraction: float = 0.0, slc_off: bool = False,
                 gap_period_px: float = 35.0, max_gap_px: float = 14.0, heading_deg=None, sensor: str = "auto",
                 p: float = 1.0) -> None:
        super().__init__(p=p)
        self.direction = check_choice(direction, "direction", DIRECTIONS)
        self.gain_std = None if gain_std is None else check_number(gain_std, "gain_std", low=0, high=1)
        self.offset_std = None if offset_std is None else check_number(offset_std, "offset_std", low=0, high=1)
        self.dead = check_number(dead_line_fraction, "dead_line_fraction", low=0, high=1)
        self.slc_off = bool(slc_off)
        self.period = check_number(gap_period_px, "gap_period_px", low=1)
        self.max_gap = check_number(max_gap_px, "max_gap_px", low=0)
        self.heading = None if heading_deg is None else check_range(heading_deg, "heading_deg", low=-360, high=360)
        if self.heading is not None and self.direction != "along_track":
            raise ParameterError(f"heading_deg sets along-track stripes: use direction='along_track', "
                                 f"not {self.direction!r}")
        self.sensor = sensor_presets.check_sensor(sensor)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_raster(sample, self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        gains, offsets = bands.reflectance_scaling(sample)
        preset, source = sensor_presets.resolve(self.sensor, sample.get("meta") or {})
        heading, heading_source = 0.0, "columns"
        if self.direction == "along_track":
            heading, heading_source = self._heading(rng, sample, preset)
        return {"seed": draw_seed(rng), "direction": self.direction,
                "gain_std": preset.detector_gain_std if self.gain_std is None else self.gain_std,
                "offset_std": preset.detector_offset_std if self.offset_std is None else self.offset_std,
                "dead_line_fraction": self.dead, "slc_off": self.slc_off,
                "gap_period_px": self.period, "max_gap_px": self.max_gap,
                "gap_shear": float(rng.uniform(-0.05, 0.05)), "dn_gain": gains, "dn_offset": offsets,
                "heading_deg": heading, "heading_source": heading_source, "sensor": preset.name,
                "sensor_source": source}

    def _heading(self, rng: np.random.Generator, sample: Mapping[str, Any], preset) -> tuple[float, str]:
        """(along-track azimuth from grid north, where it came from)."""
        meta = sample.get("meta") or {}
        if self.heading is not None:
            return sample_uniform(rng, self.heading), "given"
        if meta.get("heading_deg") is not None:
            return float(meta["heading_deg"]), "meta"
        if preset.orbit is not None:
            _, full = bands.window_of(sample)
            centre = ground_track.raster_centre_lonlat(meta, full)
            if centre is not None:
                inc, alt, descending = preset.orbit
                true_az = ground_track.track_azimuth_deg(inc, alt, centre[1], descending)
                return ground_track.grid_azimuth_deg(meta, full, true_az), f"{preset.name} orbit at {centre[1]:.2f}° lat"
        return 0.0, "no orbit or georeferencing: columns"

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        """With SLC-off gaps: the gap mask, the new ``valid`` and ``meta`` (nodata 0 when absent)."""
        ctx = super().prepare(sample, params)
        ctx.gaps = None
        if params["slc_off"]:
            (r0, c0), full = bands.window_of(ctx)
            ctx.gaps = slc_gap_mask(ctx.layout.spatial_shape, (r0, c0), full, float(params["gap_period_px"]),
                                    float(params["max_gap_px"]), float(params["gap_shear"]))
            meta = dict(ctx.meta)
            if meta.get("nodata") is None:
                meta["nodata"] = 0
            ctx.new_targets["valid"] = ~ctx.gaps if ctx.valid is None else (ctx.valid & ~ctx.gaps)
            ctx.new_targets["meta"] = meta
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        lay = ctx.layout
        (r0, c0), _ = bands.window_of(ctx)
        heading = float(params.get("heading_deg", 0.0)) % 180.0
        lo, _ = value_range(image.dtype, ctx.get("meta"))
        dead_value = lo if np.isfinite(lo) else 0.0
        out = to_float(image)
        cube = out.reshape(lay.spatial_shape + (lay.n_channels,))
        if params["direction"] != "rows" and min(heading, 180.0 - heading) > 1e-9:
            return _along_track(cube, out, params, heading, (r0, c0), dead_value)
        axis = 1 if params["direction"] != "rows" else 0
        n, start = lay.spatial_shape[axis], (c0 if axis == 1 else r0)
        seed = int(params["seed"])
        dead = pixel_uniform(seed ^ 0xDEAD, (n,), (start,)) < float(params["dead_line_fraction"])
        gains, shifts = detector_calibration(params, n, start, lay.n_channels)
        if axis == 1:  # one detector per column: a tiled row of W·bands constants
            rows = band_ops.as_rows(out)
            rows *= gains.reshape(-1).astype(out.dtype)
            rows += shifts.reshape(-1).astype(out.dtype)
        else:  # one detector per row
            cube *= gains[:, None, :].astype(out.dtype)
            cube += shifts[:, None, :].astype(out.dtype)
        if dead.any():
            cube[(slice(None), dead) if axis == 1 else (dead, slice(None))] = dead_value
        return out

    def finish_image(self, result: np.ndarray, image: np.ndarray, ctx: Context) -> np.ndarray:
        """The striped image finished as any pixel transform's, then the SLC-off gaps written as nodata."""
        out = super().finish_image(result, image, ctx)
        if ctx.gaps is None:
            return out
        meta = ctx.new_targets["meta"]
        out[np.broadcast_to(ctx.gaps[..., None] if out.ndim == 3 else ctx.gaps, out.shape)] = meta["nodata"]
        return avoid_nodata(out, ctx.new_targets["valid"], meta["nodata"], meta)


def detector_calibration(params: Mapping[str, Any], n: int, start: int, n_bands: int) -> tuple[np.ndarray, np.ndarray]:
    """Per detector (``start … start + n − 1``) and band, DN gain and shift: ρ' = g·ρ + o as
    DN' = DN·g + shift (float64, n × bands), keyed by the absolute detector index."""
    seed = int(params["seed"])
    gains = np.empty((n, n_bands), np.float64)
    shifts = np.empty((n, n_bands), np.float64)
    for k in range(n_bands):
        g = 1.0 + float(params["gain_std"]) * pixel_normals(seed + 2 * k, (n,), (start,), np.float64)
        o = float(params["offset_std"]) * pixel_normals(seed + 2 * k + 1, (n,), (start,), np.float64)
        z = -float(params["dn_offset"][k]) / float(params["dn_gain"][k])  # DN of zero reflectance
        gains[:, k] = g
        shifts[:, k] = o / float(params["dn_gain"][k]) + z * (1.0 - g)  # (x − z)·g + o/g_dn + z
    return gains, shifts


def detector_index(shape, offset, heading_deg: float) -> np.ndarray:
    """Detector of every pixel (int64, H×W): ⌊r·sin h + c·cos h⌋ at absolute pixel centres,
    so detector lines run along azimuth h from grid north."""
    h = np.radians(heading_deg)
    rows = (np.arange(offset[0], offset[0] + shape[0], dtype=np.float64) + 0.5) * math.sin(h)
    cols = (np.arange(offset[1], offset[1] + shape[1], dtype=np.float64) + 0.5) * math.cos(h)
    return np.floor(rows[:, None] + cols[None, :]).astype(np.int64)


def _along_track(cube: np.ndarray, out: np.ndarray, params: Mapping[str, Any], heading: float, offset,
                 dead_value: float) -> np.ndarray:
    """Detector gains and shifts on lines at ``heading``, gathered block of rows by block of rows."""
    h, w, n = cube.shape
    if not (h and w):
        return out
    idx = detector_index((h, w), offset, heading)
    start = int(idx.min())
    count = int(idx.max()) - start + 1
    gains, shifts = detector_calibration(params, count, start, n)
    table = np.concatenate([gains, shifts], axis=1).astype(out.dtype)  # one gather per pixel: gain and shift
    dead = pixel_uniform(int(params["seed"]) ^ 0xDEAD, (count,), (start,)) < float(params["dead_line_fraction"])
    for y0, y1 in row_blocks(0, h, w * 2 * n):
        d = idx[y0:y1] - start
        t = np.take(table, d, axis=0)
        block = cube[y0:y1]
        block *= t[..., :n]
        block += t[..., n:]
        if dead.any():
            block[dead[d]] = dead_value
    return out
