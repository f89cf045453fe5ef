"""driving.Exposure: an over- or under-exposed frame, with the sensor saturating in linear light."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, check_range, lut8, pointwise, sample_uniform

from . import radiometry
from .base import DrivingTransform


class Exposure(DrivingTransform):
    """Exposure error: radiance scaled by 2^ev before the sensor, which clips at full scale.

    Model: a linear sensor with hard saturation (each channel clips separately, so bright
    coloured areas shift toward white, as in real over-exposed frames), then the camera's
    sRGB encoding; under-exposure crushes the shadows into the quantisation of the
    output.

    Parameters
    ----------
    ev : float or (low, high)
        Exposure change in stops (+ = brighter).
    saturation : float or (low, high)
        Sensor full well as a fraction of full scale (1 = clip at white).

    Targets: image (RGB; uint8/uint16 sRGB, float linear); others pass unchanged.
    """

    def __init__(self, ev: Any = (-2.0, 2.0), saturation: Any = 1.0, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.ev = check_range(ev, "ev", low=-20.0, high=20.0)
        self.saturation = check_range(saturation, "saturation", low=0.0, high=1.0, low_inclusive=False)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        return {"ev": sample_uniform(rng, self.ev), "saturation": sample_uniform(rng, self.saturation)}

    @staticmethod
    def _expose(lin: np.ndarray, params: Mapping[str, Any]) -> np.ndarray:
        lin *= np.float32(2.0 ** float(params["ev"]))
        sat = np.float32(params["saturation"])
        np.minimum(lin, sat, out=lin)
        lin *= np.float32(1.0) / sat  # the saturated level is displayed as white
        return lin

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        frame, meta = ctx.scene["image"], ctx.meta
        if radiometry.is_srgb8(frame, meta):
            # a per-pixel, per-channel curve: evaluate it once on the 256 codes, then look up
            codes = np.arange(256, dtype=np.uint8)
            lut = radiometry.encode(self._expose(radiometry.decode(codes, meta), params), codes, meta)
            out = lut8(np.ascontiguousarray(frame), lut)  # SIMD byte lookup (cv2 / stringzilla)
            return np.take(lut, frame) if out is None else out
        if frame.dtype.kind in "ui" and frame.dtype.itemsize <= 2:
            # 16-bit frames: the same curve evaluated once per code (65 536 values, not 3
            # per pixel) and looked up; restored to the dtype exactly as the float path is
            def curve(codes: np.ndarray) -> np.ndarray:
                lin = radiometry.decode(codes.astype(frame.dtype), meta)
                return radiometry.encode(self._expose(lin, params), frame, meta)

            return pointwise(frame, curve, meta)
        lin = radiometry.decode(frame, meta)
        return radiometry.encode(self._expose(lin, params), image, meta)
