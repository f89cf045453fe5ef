"""core.HueSaturationValue: shift hue, saturation and value in HSV space."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..ops.hsv import apply_to_rgb, band_names_of, hsv_tables_u8, rgb_band_indices, shift_hsv, shift_hsv_u8
from ..params import check_range, sample_uniform
from ..targets import layout_of
from ..transform import Context, PixelTransform


class HueSaturationValue(PixelTransform):
    """Shift the hue, saturation and value of an RGB picture in HSV space.

    What it models: *display-referred* colour rendering changes (a white-balance or
    tint error, a more or less saturated picture style, a brighter or darker rendering)
    applied to encoded R′G′B′ values. It is an appearance perturbation, not a physical
    sensor or illumination effect.
    Model: hexcone HSV (A. R. Smith, "Color gamut transform pairs", SIGGRAPH 1978):
    ``H ← (H + Δh) mod 360°``, ``S ← clip(S + Δs, 0, 1)``, ``V ← clip(V + Δv, 0, 1)``
    with S, V as fractions of full scale. Neutral pixels (S = 0) stay neutral (adding
    saturation to a grey would invent a hue).

    Parameters
    ----------
    hue_shift_deg : float or (low, high)
        Hue rotation in degrees, within [−180, 180] (120 takes red to green).
        Default (−20, 20).
    saturation_shift : float or (low, high)
        Added to HSV saturation (a fraction, within [−1, 1]). Default (−0.12, 0.12)
        (≈ ±30 of 255).
    value_shift : float or (low, high)
        Added to HSV value, a fraction of full scale within [−1, 1]. Default
        (−0.08, 0.08) (≈ ±20 of 255).
    p : float
        Probability of applying.

    A scalar is a fixed shift, a pair is sampled uniformly (domaug's convention; note that
    Albumentations reads a scalar as a symmetric range and counts hue in 2° steps).

    Targets: image, RGB (3 bands) or RGBA (alpha untouched); ``meta["band_names"]``
    with red/green/blue (+ alpha) in any order is respected. Other band counts are
    refused (12-band reflectance has no hue). uint8 on the OpenCV path uses 8-bit HSV
    (hue in 1/256 turn: on average < 1 level from the float result, up to ~10 on bright
    saturated colours; Albumentations' 180 steps are coarser); uint16/float compute in float.
    Nodata pixels are kept. Other targets pass through.
    """

    def __init__(self, hue_shift_deg=(-20.0, 20.0), saturation_shift=(-0.12, 0.12),
                 value_shift=(-0.08, 0.08), p: float = 1.0) -> None:
        super().__init__(p=p)
        self.hue_shift_deg = check_range(hue_shift_deg, "hue_shift_deg", low=-180, high=180)
        self.saturation_shift = check_range(saturation_shift, "saturation_shift", low=-1, high=1)
        self.value_shift = check_range(value_shift, "value_shift", low=-1, high=1)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        lay = layout_of(sample)
        rgb_band_indices(lay.n_channels, lay.has_channels, band_names_of(sample.get("meta")), self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        return {
            "hue_shift_deg": sample_uniform(rng, self.hue_shift_deg),
            "saturation_shift": sample_uniform(rng, self.saturation_shift),
            "value_shift": sample_uniform(rng, self.value_shift),
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        meta = ctx.get("meta") or {}
        lay = layout_of(ctx)
        indices = rgb_band_indices(lay.n_channels, lay.has_channels, band_names_of(meta), self.name_for_errors())
        turns = float(params.get("hue_shift_deg", 0.0)) / 360.0
        ds = float(params.get("saturation_shift", 0.0))
        dv = float(params.get("value_shift", 0.0))

        def shift_float(rgb: np.ndarray) -> np.ndarray:
            if turns % 1.0 == 0.0 and ds == 0.0 and dv == 0.0:
                return rgb.copy()
            np.clip(rgb, 0, 1, out=rgb)  # HSV needs display values; rgb is a working copy
            out = shift_hsv(rgb, turns, ds, dv)
            return np.clip(out, 0, 1, out=out)

        return apply_to_rgb(image, meta, indices,
                            lambda rgb: shift_hsv_u8(rgb, hsv_tables_u8(turns, ds, dv)),
                            shift_float)
