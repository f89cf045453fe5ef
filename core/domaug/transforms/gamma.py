"""core.Gamma: a power-law tone curve (display gamma / tone-mapping change)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..dtypes import full_scale
from ..ops.intensity import pointwise, power_in_place
from ..params import check_range, sample_log_uniform
from ..transform import Context, PixelTransform


class Gamma(PixelTransform):
    """Apply a power-law tone curve to intensities normalised by full scale.

    Model: ``y = full_scale · (x / full_scale)^γ`` (the power-law transfer of displays
    and camera tone curves; γ < 1 brightens shadows, γ > 1 darkens). Negative values
    (int16, float) are mapped by the odd extension ``−|v|^γ`` so the curve stays
    monotonic. γ is drawn log-uniformly (γ and 1/γ equally likely for a symmetric range).

    Parameters
    ----------
    gamma : float or (low, high)
        Exponent, > 0. Default (0.67, 1.5).
    p : float
        Probability of applying.

    Targets: image (any bands, volumes); uint8/uint16/int16 use an exact lookup table.
    Other targets pass through.
    """

    def __init__(self, gamma=(0.67, 1.5), p: float = 1.0) -> None:
        super().__init__(p=p)
        self.gamma = check_range(gamma, "gamma", low=0, low_inclusive=False)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        return {"gamma": sample_log_uniform(rng, self.gamma)}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        meta = ctx.get("meta") or {}
        fs = full_scale(image.dtype, meta)
        g = float(params["gamma"])

        def curve(x: np.ndarray) -> np.ndarray:
            scale = np.asarray(fs, x.dtype)
            if fs != 1.0:  # float images at full scale 1: skip two passes
                x /= scale
            lowest = np.minimum.reduce(x, axis=None) if x.size else 0.0  # no boolean temporary
            if lowest < 0 or lowest != lowest:  # negatives (or NaN hiding them): odd extension
                neg = x < 0
                np.abs(x, out=x)
                power_in_place(x, g)
                np.negative(x, out=x, where=neg)
            else:
                power_in_place(x, g, zeros=lowest == 0)
            if fs != 1.0:
                x *= scale
            return x

        return pointwise(image, curve, meta)
