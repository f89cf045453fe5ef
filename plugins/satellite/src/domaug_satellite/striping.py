"""satellite.Striping: detector-to-detector gain/offset stripes, dead lines, SLC-off gaps."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, PixelTransform, avoid_nodata, check_choice, check_number, draw_seed, to_float, value_range

from . import band_ops, bands
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


class Striping(PixelTransform):
    """Push-broom (or whisk-broom) striping: per-detector gain and offset, dead lines, gaps.

    Model: each detector (one image column for a push-broom sensor, one row for a
    whisk-broom sensor) has its own calibration residual, ``ρ' = g_d·ρ + o_d`` with
    ``g_d ~ N(1, gain_std)``, ``o_d ~ N(0, offset_std)`` per band (Gadallah et al., IJRS
    21(12), 2000); dead detectors give a line at the band's lowest value; optional
    Landsat-7 SLC-off wedge gaps are written as nodata (``valid`` updated).

    Parameters
    ----------
    direction : "columns" (push-broom, default) or "rows" (whisk-broom)
    gain_std : float
        Relative gain spread between detectors (default 0.02).
    offset_std : float
        Offset spread, reflectance units (default 0.003).
    dead_line_fraction : float
        Fraction of detectors that are dead (default 0).
    slc_off : bool
        Add SLC-off gaps (default False); ``gap_period_px`` (35) and ``max_gap_px`` (14).

    Targets: image (any bands, any dtype), valid (kept; gaps become invalid, and
    ``meta["nodata"]`` is set to 0 when absent). Keyed by absolute columns/rows.
    """

    #: windows agree with the whole (fields and noise keyed by absolute pixel coordinates)
    window_safe = True

    def __init__(self, direction: str = "columns", gain_std: float = 0.02, offset_std: float = 0.003,
                 dead_line_fraction: float = 0.0, slc_off: bool = False, gap_period_px: float = 35.0,
                 max_gap_px: float = 14.0, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.direction = check_choice(direction, "direction", ("columns", "rows"))
        self.gain_std = check_number(gain_std, "gain_std", low=0, high=1)
        self.offset_std = check_number(offset_std, "offset_std", low=0, high=1)
        self.dead = check_number(dead_line_fraction, "dead_line_fraction", low=0, high=1)
        self.slc_off = bool(slc_off)
        self.period = check_number(gap_period_px, "gap_period_px", low=1)
        self.max_gap = check_number(max_gap_px, "max_gap_px", low=0)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_raster(sample, self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        gains, offsets = bands.reflectance_scaling(sample)
        return {"seed": draw_seed(rng), "direction": self.direction, "gain_std": self.gain_std,
                "offset_std": self.offset_std, "dead_line_fraction": self.dead, "slc_off": self.slc_off,
                "gap_period_px": self.period, "max_gap_px": self.max_gap,
                "gap_shear": float(rng.uniform(-0.05, 0.05)), "dn_gain": gains, "dn_offset": offsets}

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
        axis = 1 if params["direction"] == "columns" else 0
        n, start = lay.spatial_shape[axis], (c0 if axis == 1 else r0)
        lo, _ = value_range(image.dtype, ctx.get("meta"))
        seed = int(params["seed"])
        dead = pixel_uniform(seed ^ 0xDEAD, (n,), (start,)) < float(params["dead_line_fraction"])
        out = to_float(image)
        gains, shifts = detector_calibration(params, n, start, lay.n_channels)
        cube = out.reshape(lay.spatial_shape + (lay.n_channels,))
        if axis == 1:  # one detector per column: a tiled row of W·bands constants
            rows = band_ops.as_rows(out)
            rows *= gains.reshape(-1).astype(out.dtype)
            rows += shifts.reshape(-1).astype(out.dtype)
        else:  # one detector per row
            cube *= gains[:, None, :].astype(out.dtype)
            cube += shifts[:, None, :].astype(out.dtype)
        if dead.any():
            cube[(slice(None), dead) if axis == 1 else (dead, slice(None))] = lo if np.isfinite(lo) else 0.0
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
