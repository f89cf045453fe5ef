"""agriculture.FlightMotionBlur: forward-motion smear of a moving drone during the exposure."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import (
    AffineSampler,
    Context,
    as_hwc,
    check_number,
    check_range,
    convolve,
    line_kernel,
    masked_copy,
    restore_dtype,
    sample_uniform,
    spread,
    transform_bboxes,
    transform_keypoints,
    warp_field,
)

from . import bands
from ._base import AgriPixelTransform, from_linear_units, to_linear_units, working_copy


def motion_length_px(speed_m_s: float, exposure_s: float, gsd_m: float) -> float:
    """Blur length: ground distance flown during the exposure over the ground pixel size."""
    return speed_m_s * exposure_s / gsd_m


def blur_footprint(x: np.ndarray, kernel: np.ndarray, footprint: np.ndarray | None) -> np.ndarray:
    """Convolve every band; with a footprint, normalise so nodata never bleeds in."""
    if footprint is None:
        return convolve(x, kernel, 2)
    w = footprint.astype(x.dtype)
    num = convolve(masked_copy(x, footprint), kernel, 2)  # x·w (NaN outside counts as 0)
    den = convolve(w, kernel, 2)
    hit = den > 1e-6
    np.maximum(den, 1e-6, out=den)
    den = den.astype(num.dtype, copy=False)
    np.divide(num, den if num.ndim == 2 else spread(den, num.shape[-1]), out=num)
    if not hit.all():
        np.copyto(num, x, where=~hit if num.ndim == 2 else ~hit[..., None])
    return num


def skew_matrix(shape: tuple[int, int], skew_px: float, heading_deg: float) -> np.ndarray:
    """Out→in map of a top-to-bottom rolling shutter: row r sees the ground moved ``skew_px·r/H`` along the heading."""
    h = shape[0]
    u_row, u_col = -math.cos(math.radians(heading_deg)), math.sin(math.radians(heading_deg))
    m = np.eye(3)
    m[0, 0] += skew_px * u_row / h
    m[1, 0] += skew_px * u_col / h
    return m


class FlightMotionBlur(AgriPixelTransform):
    """Motion blur of a drone frame: a linear smear along the flight heading, optional rolling-shutter skew.

    Model: uniform linear motion PSF (``domaug.ops.psf.line_kernel``) of length
    speed × exposure ÷ GSD pixels along the heading (e.g. 10 m/s × 1/500 s at 1 cm GSD
    = 2 px), integrated in linear light (8-bit photos sRGB-decoded). Inside an orthomosaic footprint the blur is normalised so nodata never
    bleeds into valid pixels. With ``readout_s`` > 0 (rolling-shutter sensors read rows
    top to bottom), row r is also displaced by speed·readout·(r/H)/GSD along the
    heading: a shear that masks, ``valid``, boxes and keypoints follow (edges replicated).

    Parameters
    ----------
    speed_m_s : float or (low, high)
        Ground speed of the drone, m/s.
    exposure_s : float or (low, high)
        Exposure time, seconds.
    heading_deg : float or (low, high)
        Flight heading, degrees clockwise from image up (north for north-up frames).
    gsd_m : float, optional
        Ground sample distance, metres; default meta ``gsd_m``/geotransform, else 0.02.
    readout_s : float or (low, high)
        Rolling-shutter readout time, seconds (0 = global shutter, as on MicaSense; 0.01–0.03
        on consumer RGB drones).
    p : float
        Probability of applying.

    Targets: image; with a rolling shutter also masks, valid, fields, bboxes, keypoints
    (otherwise they pass through: the smear is below the label precision).
    """

    def __init__(
        self,
        speed_m_s: float | tuple[float, float] = (5.0, 15.0),
        exposure_s: float | tuple[float, float] = (1 / 1000, 1 / 150),
        heading_deg: float | tuple[float, float] = (0.0, 360.0),
        gsd_m: float | None = None,
        readout_s: float | tuple[float, float] = 0.0,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.speed_m_s = check_range(speed_m_s, "speed_m_s", low=0.0, high=100.0)
        self.exposure_s = check_range(exposure_s, "exposure_s", low=0.0, high=1.0)
        self.heading_deg = check_range(heading_deg, "heading_deg", low=-360.0, high=720.0)
        self.gsd_m = None if gsd_m is None else check_number(gsd_m, "gsd_m", low=0.0, low_inclusive=False)
        self.readout_s = check_range(readout_s, "readout_s", low=0.0, high=1.0)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        gsd = self.gsd_m if self.gsd_m is not None else bands.gsd_of(sample.get("meta"))
        speed = sample_uniform(rng, self.speed_m_s)
        exposure = sample_uniform(rng, self.exposure_s)
        readout = sample_uniform(rng, self.readout_s)
        return {
            "length_px": float(min(motion_length_px(speed, exposure, gsd), 200.0)),
            "heading_deg": sample_uniform(rng, self.heading_deg),
            "skew_px": float(min(motion_length_px(speed, readout, gsd), 2000.0)),
        }

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        skew = float(params.get("skew_px", 0.0))
        ctx.shutter = None
        if skew >= 0.01:  # the rolling shutter shears the frame and every target on its grid
            shape = ctx["image"].shape[:2]
            ctx.shutter = AffineSampler(skew_matrix(shape, skew, float(params["heading_deg"])), shape, shape)
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        x = working_copy(image, ctx)
        length = float(params["length_px"])
        if length < 0.05:
            return x
        # heading clockwise from up → line_kernel angle counter-clockwise from +x
        kernel = line_kernel(length, 90.0 - float(params["heading_deg"]))
        return from_linear_units(blur_footprint(to_linear_units(x, ctx), kernel, ctx.footprint), ctx)

    def finish_image(self, result: np.ndarray, image: np.ndarray, ctx: Context) -> np.ndarray:
        """The smeared frame finished as every drone frame, then sheared by the rolling shutter
        (the alpha band by nearest neighbour)."""
        out = super().finish_image(result, image, ctx)
        if ctx.shutter is None:
            return out
        alpha = ctx.roles.get("alpha")
        hwc = as_hwc(out)
        planes = [ctx.shutter.sample(np.ascontiguousarray(hwc[..., i]).astype(np.float32), 0 if i == alpha else 1)
                  for i in range(hwc.shape[-1])]
        return restore_dtype(np.stack(planes, -1), out.dtype, ctx.get("meta")).reshape(out.shape)

    def apply_to_mask(self, mask: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        if ctx.shutter is None:
            return mask
        return ctx.shutter.sample(mask.view(np.uint8) if mask.dtype == bool else mask, 0).astype(mask.dtype)

    def apply_to_valid(self, valid: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return valid if ctx.shutter is None else ctx.shutter.sample(valid.view(np.uint8), 0).astype(bool)

    def apply_to_field(self, field: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return field if ctx.shutter is None else warp_field(field, ctx.shutter, spatial_ndim=2)

    def apply_to_bboxes(self, bboxes: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        if ctx.shutter is None:
            return bboxes
        return transform_bboxes(bboxes, ctx.shutter.out_to_in, ctx.shutter.out_shape)

    def apply_to_keypoints(self, keypoints: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        if ctx.shutter is None:
            return keypoints
        return transform_keypoints(keypoints, ctx.shutter.out_to_in, ctx.shutter.out_shape)
