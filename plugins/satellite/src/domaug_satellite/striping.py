"""satellite.Striping: detector-to-detector gain/offset stripes, dead lines, SLC-off gaps."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.dtypes import avoid_nodata, to_float, value_range
from domaug.params import check_choice, check_number, draw_seed
from domaug.targets import layout_of, valid_of
from domaug.transform import PixelTransform

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

    def window_halo(self, params: Mapping[str, Any]) -> int:
        return 0

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
        bands.check_image_2d(sample, "satellite.Striping")

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        gains, offsets = bands.reflectance_scaling(sample)
        return {"seed": draw_seed(rng), "direction": self.direction, "gain_std": self.gain_std,
                "offset_std": self.offset_std, "dead_line_fraction": self.dead, "slc_off": self.slc_off,
                "gap_period_px": self.period, "max_gap_px": self.max_gap,
                "gap_shear": float(rng.uniform(-0.05, 0.05)), "dn_gain": gains, "dn_offset": offsets}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], sample: Mapping[str, Any]) -> np.ndarray:
        lay = layout_of(sample)
        (r0, c0), _ = bands.window_of(sample)
        axis = 1 if params["direction"] == "columns" else 0
        n, start = lay.spatial_shape[axis], (c0 if axis == 1 else r0)
        lo, _ = value_range(image.dtype, sample.get("meta"))
        seed = int(params["seed"])
        dead = pixel_uniform(seed ^ 0xDEAD, (n,), (start,)) < float(params["dead_line_fraction"])
        out = to_float(image)
        nb = lay.n_channels
        gains = np.empty((n, nb), np.float64)  # per detector and band: ρ' = g·ρ + o
        shifts = np.empty((n, nb), np.float64)
        for k in range(nb):
            g = 1.0 + float(params["gain_std"]) * pixel_normals(seed + 2 * k, (n,), (start,), np.float64)
            o = float(params["offset_std"]) * pixel_normals(seed + 2 * k + 1, (n,), (start,), np.float64)
            z = -float(params["dn_offset"][k]) / float(params["dn_gain"][k])  # DN of zero reflectance
            gains[:, k] = g
            shifts[:, k] = o / float(params["dn_gain"][k]) + z * (1.0 - g)  # (x − z)·g + o/g_dn + z
        cube = out.reshape(lay.spatial_shape + (nb,))
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

    def apply(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> dict:
        out = super().apply(sample, params)
        if not params["slc_off"]:
            return out
        lay = layout_of(sample)
        (r0, c0), full = bands.window_of(sample)
        gaps = slc_gap_mask(lay.spatial_shape, (r0, c0), full, float(params["gap_period_px"]),
                            float(params["max_gap_px"]), float(params["gap_shear"]))
        meta = dict(sample.get("meta") or {})
        if meta.get("nodata") is None:
            meta["nodata"] = 0
        old_valid = valid_of(sample)
        valid = ~gaps if old_valid is None else (old_valid & ~gaps)
        image = out["image"]
        image[np.broadcast_to(gaps[..., None] if image.ndim == 3 else gaps, image.shape)] = meta["nodata"]
        out["image"] = avoid_nodata(image, valid, meta["nodata"], meta)
        out["valid"] = valid
        out["meta"] = meta
        return out
