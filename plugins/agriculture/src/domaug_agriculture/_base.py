"""Shared plumbing: 2-D only, spectral bands only, alpha and footprint kept bit-exact."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.dtypes import finish, full_scale, to_float
from domaug.targets import valid_of
from domaug.transform import PixelTransform

from . import bands, light


class AgriPixelTransform(PixelTransform):
    """A pixel transform on drone frames.

    Subclasses implement ``apply_to_bands(x, params, sample, ctx)`` on a float H×W×C
    working copy (all channels, alpha included: they may ignore it). The base refuses
    volumes, writes the alpha channel back untouched and restores every pixel outside
    the footprint (alpha 0, ``valid`` False or ``meta['nodata']``) bit-exact.
    """

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_2d(sample, self.name_for_errors())

    def context(self, sample: Mapping[str, Any]) -> dict:
        image = sample["image"]
        meta = sample.get("meta") or {}
        return {
            "roles": bands.roles(sample),
            "spectral": bands.spectral_channels(sample),
            "wavelengths": bands.wavelengths(sample),
            "footprint": bands.footprint(sample),
            "full_scale": full_scale(image.dtype, meta),
            "coded": light.is_display_coded(image.dtype, bands.roles(sample)),
        }

    @staticmethod
    def to_linear(x: np.ndarray, ctx: Mapping[str, Any]) -> np.ndarray:
        """Working copy → linear light in [0, 1]·(full scale units) (sRGB-decoded for 8-bit photos).

        Light adds and multiplies in linear units; 8-bit RGB photos are display-coded. Reuses ``x``.
        """
        return light.decode(x, ctx["full_scale"], ctx["coded"])

    @staticmethod
    def from_linear(y: np.ndarray, ctx: Mapping[str, Any]) -> np.ndarray:
        return light.encode(y, ctx["full_scale"], ctx["coded"])

    def apply_to_bands(self, x: np.ndarray, params: Mapping[str, Any], sample: Mapping[str, Any], ctx: dict) -> np.ndarray:
        raise NotImplementedError

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], sample: Mapping[str, Any]) -> np.ndarray:
        ctx = self.context(sample)
        x = to_float(bands.as_hwc(image))
        fp = ctx["footprint"]
        if fp is not None or x.dtype.kind == "f":
            # outside the footprint the values mean nothing (NaN, -9999): zero them so that
            # footprint-weighted filters (weight 0 there) never turn NaN·0 into NaN
            bad = ~np.isfinite(x)
            if fp is not None:
                bad |= ~fp[..., None]
            if bad.any():
                x[bad] = 0.0
        y = self.apply_to_bands(x, params, sample, ctx)
        original = bands.as_hwc(image)
        alpha = ctx["roles"].get("alpha")
        if alpha is not None:
            y[..., alpha] = original[..., alpha]
        fp = ctx["footprint"]
        if fp is not None:
            y[~fp] = original[~fp]
        return y.reshape(image.shape)

    def apply(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> dict:
        out = dict(sample)
        image = sample["image"]
        result = self.apply_to_image(image, params, sample)
        out["image"] = finish(result, sample, valid_of(sample))
        return out
