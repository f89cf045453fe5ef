"""core.BrightnessContrast: exposure offset and gain change (linear tone map)."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..dtypes import full_scale
from ..ops import opencv
from ..ops.intensity import pointwise
from ..params import check_choice, check_range, sample_uniform
from ..targets import valid_of
from ..transform import Context, PixelTransform


#: Where contrast pivots: the image mean, mid-grey, or zero signal.
PIVOTS = ("mean", "mid", "black")


class BrightnessContrast(PixelTransform):
    """Change brightness (an offset) and contrast (a gain about a pivot).

    Model: the linear tone map ``y = (x − pivot)·contrast + pivot + brightness·full_scale``
    (an exposure/gain change of a linear sensor; black-level offset).

    Parameters
    ----------
    brightness : float or (low, high)
        Offset as a fraction of full scale (``domaug.dtypes.full_scale``: 255 for uint8,
        2^bit_depth − 1, 1.0 for floats): 0.1 adds 10 % of white. Default (-0.2, 0.2).
    contrast : float or (low, high)
        Gain factor about the pivot (1 = unchanged, 0 = flat). Default (0.8, 1.25).
    pivot : {"mean", "mid", "black"}
        ``"mean"`` (default): the mean of all valid pixels over all bands, so contrast
        leaves the mean brightness (and the colour balance) unchanged;
        ``"mid"``: mid-grey, ``full_scale / 2``;
        ``"black"``: zero signal, so contrast is a pure gain (the exposure or ISO change
        of a linear sensor; what Albumentations' ``RandomBrightnessContrast`` computes).
    p : float
        Probability of applying.

    Targets: image (any bands, volumes); results are clipped to the dtype / declared
    range. uint8/uint16/int16 use an exact lookup table. Other targets pass through.
    """

    def __init__(self, brightness=(-0.2, 0.2), contrast=(0.8, 1.25), pivot: str = "mean", p: float = 1.0) -> None:
        super().__init__(p=p)
        self.brightness = check_range(brightness, "brightness", low=-1, high=1)
        self.contrast = check_range(contrast, "contrast", low=0)
        self.pivot = check_choice(pivot, "pivot", PIVOTS)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        return {
            "brightness": sample_uniform(rng, self.brightness),
            "contrast": sample_uniform(rng, self.contrast),
            "pivot": self.pivot,
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        meta = ctx.get("meta") or {}
        fs = full_scale(image.dtype, meta)
        kind = params.get("pivot", "mean")
        if kind == "mid":
            pivot = fs / 2.0
        elif kind == "black":
            pivot = 0.0
        else:
            pivot = _valid_mean(image, ctx)
        gain = float(params["contrast"])
        shift = pivot * (1.0 - gain) + float(params["brightness"]) * fs

        def tone(x: np.ndarray) -> np.ndarray:
            x *= np.asarray(gain, x.dtype)
            x += np.asarray(shift, x.dtype)
            return x

        return pointwise(image, tone, meta)


def _valid_mean(image: np.ndarray, sample: Mapping[str, Any]) -> float:
    """Mean over valid pixels (all bands), float64 accumulation."""
    valid = valid_of(sample)
    if valid is None:
        return opencv.mean(image)
    if not valid.any():
        return 0.0
    return float(np.mean(image[valid], dtype=np.float64))  # N (× C) valid values
