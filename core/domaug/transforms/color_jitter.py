"""core.ColorJitter: random brightness, contrast, saturation and hue, in a random order."""

from __future__ import annotations

import numbers
from typing import Any, Mapping

import numpy as np

from ..ops.hsv import JITTER_STEPS, apply_to_rgb, band_names_of, jitter_float, jitter_u8, rgb_band_indices
from ..params import check_number, check_range, sample_uniform
from ..targets import layout_of, valid_of
from ..transform import Context, PixelTransform


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _factor_range(value: Any, name: str) -> tuple[float, float]:
    """A scalar ``b`` means factors in (max(0, 1 − b), 1 + b); a pair is taken as given."""
    if _is_number(value):
        b = check_number(value, name, low=0)
        return (max(0.0, 1.0 - b), 1.0 + b)
    return check_range(value, name, low=0)


def _hue_range(value: Any) -> tuple[float, float]:
    """A scalar ``h`` in [0, 0.5] means shifts in (−h, h) turns; a pair within [−0.5, 0.5]."""
    if _is_number(value):
        h = check_number(value, "hue", low=0, high=0.5)
        return (-h, h)
    return check_range(value, "hue", low=-0.5, high=0.5)


class ColorJitter(PixelTransform):
    """Jitter the brightness, contrast, saturation and hue of an RGB picture, in a random order.

    What it models: variation of *display-referred* colour rendering (exposure
    compensation, picture-style contrast and saturation, a white-balance-like hue
    error) on encoded R′G′B′ values. It is an appearance perturbation, not a physical
    sensor or illumination effect (for those use the domain transforms).
    Model: torchvision-style colour jitter with ITU-R BT.601 luma
    Y′ = 0.299 R′ + 0.587 G′ + 0.114 B′ and hexcone HSV hue (Smith, SIGGRAPH 1978).

    The four steps run in an order drawn per call (recorded as ``order``); values are
    clipped to [0, full scale] after every step:

    - brightness ``b``: ``x·b``;
    - contrast ``c``: ``c·x + (1 − c)·mean(Y′)`` (mean luma of the valid pixels, so the
      mean luma is kept up to clipping);
    - saturation ``s``: ``s·x + (1 − s)·Y′(x)`` per pixel (0 = grey, greys stay grey);
    - hue ``h``: rotate the HSV hue by ``h`` turns (1/3 turn takes red to green).

    Parameters
    ----------
    brightness, contrast, saturation : float or (low, high)
        Multiplicative factors around 1. A scalar ``v`` ≥ 0 draws from
        ``(max(0, 1 − v), 1 + v)``; a pair is the range itself (``(1.2, 1.2)`` = fixed).
        Default 0.2 each, i.e. (0.8, 1.2).
    hue : float or (low, high)
        Hue shift in turns (fractions of 360°). A scalar ``h`` in [0, 0.5] draws from
        ``(−h, h)``; a pair lies within [−0.5, 0.5]. Default 0.05 (±18°: a strong but
        plausible white-balance error; Albumentations' default ±0.5 is any hue at all).
    p : float
        Probability of applying.

    Targets: image, RGB (3 bands) or RGBA (alpha untouched); ``meta["band_names"]``
    with red/green/blue (+ alpha) in any order is respected. Other band counts are
    refused (12-band reflectance has no hue). uint8/uint16/float; uint8 on the OpenCV
    path rounds after each step (8-bit HSV: 256 hue steps), other dtypes compute in
    float. Nodata pixels are kept. Other targets pass through.
    """

    def __init__(self, brightness=0.2, contrast=0.2, saturation=0.2, hue=0.05, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.brightness = _factor_range(brightness, "brightness")
        self.contrast = _factor_range(contrast, "contrast")
        self.saturation = _factor_range(saturation, "saturation")
        self.hue = _hue_range(hue)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        lay = layout_of(sample)
        rgb_band_indices(lay.n_channels, lay.has_channels, band_names_of(sample.get("meta")), self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        order = [JITTER_STEPS[i] for i in rng.permutation(len(JITTER_STEPS))]
        return {
            "brightness": sample_uniform(rng, self.brightness),
            "contrast": sample_uniform(rng, self.contrast),
            "saturation": sample_uniform(rng, self.saturation),
            "hue": sample_uniform(rng, self.hue),
            "order": order,
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        meta = ctx.get("meta") or {}
        lay = layout_of(ctx)
        indices = rgb_band_indices(lay.n_channels, lay.has_channels, band_names_of(meta), self.name_for_errors())
        order = list(params.get("order", JITTER_STEPS))
        factors = {step: float(params.get(step, 0.0 if step == "hue" else 1.0)) for step in JITTER_STEPS}
        valid = valid_of(ctx)
        return apply_to_rgb(image, meta, indices,
                            lambda rgb: jitter_u8(rgb, order, factors, valid),
                            lambda rgb: jitter_float(rgb, order, factors, valid))
