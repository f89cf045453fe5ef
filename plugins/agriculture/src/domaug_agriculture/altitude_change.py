"""agriculture.AltitudeChange: the same field flown higher or lower (coarser or finer GSD)."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import (
    AffineSampler,
    Context,
    UnsupportedInputError,
    WarpTransform,
    as_hwc,
    avoid_nodata,
    check_range,
    gaussian_blur,
    masked_copy,
    mtf_sigma,
    restore_dtype,
    sample_uniform,
    scale_matrix,
    spread,
    to_float,
    warp_image,
    warp_valid,
)

from . import bands

#: MTF at Nyquist of the camera (and of the simulated coarser image), the usual default.
GAIN_AT_NYQUIST = 0.3


def altitude_sigma(scale: float, gain_at_nyquist: float = GAIN_AT_NYQUIST) -> float:
    """Extra Gaussian blur (input px) so an image of MTF G at its Nyquist gets MTF G at the new one.

    σ_new² = σ_old² + σ_add², σ(r) = r·√(−2 ln G)/π (Wald 1997 protocol with an MTF-matched filter).
    """
    if scale <= 1.0:
        return 0.0
    return math.sqrt(max(mtf_sigma(scale, gain_at_nyquist) ** 2 - mtf_sigma(1.0, gain_at_nyquist) ** 2, 0.0))


class AltitudeChange(WarpTransform):
    """Flight height change: GSD ∝ altitude, so a higher flight sees the field coarser and smaller.

    Model: GSD = sensor width·altitude/(focal length·image width), linear in altitude;
    flying r times higher is simulated by an MTF-matched Gaussian (gain 0.3 at the new
    Nyquist; Wald et al. 1997, Vivone et al. 2015) and bilinear resampling to H/r × W/r
    over the same ground extent. Lower flights (r < 1) are interpolated (no new detail).
    The geotransform, ``spacing``, ``gsd_m`` and ``altitude_m`` in meta are updated; masks
    and the alpha band use nearest neighbour; boxes and keypoints are scaled.

    Parameters
    ----------
    altitude_ratio : float or (low, high)
        New altitude / old altitude (2 = twice as high = half the pixels per axis).
    target_altitude_m : float or (low, high), optional
        New altitude in metres; needs ``meta['altitude_m']`` and overrides ``altitude_ratio``.
    p : float
        Probability of applying.

    Targets: image, masks, valid, fields, bboxes, keypoints, meta.
    """

    def __init__(
        self,
        altitude_ratio: float | tuple[float, float] = (1.3, 2.5),
        target_altitude_m: float | tuple[float, float] | None = None,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.altitude_ratio = check_range(altitude_ratio, "altitude_ratio", low=0.25, high=20.0)
        self.target_altitude_m = (None if target_altitude_m is None
                                  else check_range(target_altitude_m, "target_altitude_m", low=0.0, low_inclusive=False))

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_frame(sample, self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        ratio = sample_uniform(rng, self.altitude_ratio)
        meta = sample.get("meta") or {}
        if self.target_altitude_m is not None:
            if not meta.get("altitude_m"):
                raise UnsupportedInputError(
                    f"{self.name_for_errors()}: target_altitude_m needs meta['altitude_m'] (the flight height)"
                )
            ratio = sample_uniform(rng, self.target_altitude_m) / float(meta["altitude_m"])
        h, w = as_hwc(sample["image"]).shape[:2]
        out_shape = [max(1, int(round(h / ratio))), max(1, int(round(w / ratio)))]
        return {"altitude_ratio": float(ratio), "out_shape": out_shape}

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        in_shape = as_hwc(ctx["image"]).shape[:2]
        ctx.sampler = AffineSampler(scale_matrix(in_shape, params["out_shape"]), in_shape, params["out_shape"])
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        """MTF-matched blur and bilinear resampling, normalised by the footprint; the alpha band
        and the pixels outside the footprint by nearest neighbour."""
        sampler, meta = ctx.sampler, ctx.meta
        hwc = as_hwc(image)
        fp = bands.frame_footprint(ctx)
        sy, sx = np.diag(sampler.out_to_in)[:2]
        sig = (altitude_sigma(sy), altitude_sigma(sx))
        y = resample_frame(hwc, sampler, sig) if fp is None else resample_footprint(hwc, fp, sampler, sig)
        alpha = bands.roles(ctx).get("alpha")
        out_valid = None if fp is None else warp_valid(fp, sampler)
        if alpha is not None or out_valid is not None:
            nearest = warp_image(hwc, sampler, spatial_ndim=2, order=0, antialias=False)
            if alpha is not None:
                y[..., alpha] = nearest[..., alpha]
            if out_valid is not None:
                y[~out_valid] = nearest[~out_valid]
        out = restore_dtype(y, image.dtype, meta)
        out = avoid_nodata(out, out_valid, meta.get("nodata"), meta)
        return out.reshape(tuple(params["out_shape"]) + image.shape[2:])

    def apply_to_meta(self, meta: Mapping[str, Any], params: Mapping[str, Any], ctx: Context) -> dict:
        """Geotransform and spacing follow the grid; ``gsd_m`` and ``altitude_m`` the flight."""
        out = super().apply_to_meta(meta, params, ctx)
        sy, sx = np.diag(ctx.sampler.out_to_in)[:2]
        if meta.get("gsd_m"):
            out["gsd_m"] = float(meta["gsd_m"]) * float(math.sqrt(sy * sx))
        if meta.get("altitude_m"):
            out["altitude_m"] = float(meta["altitude_m"]) * float(params["altitude_ratio"])
        return out


def resample_frame(hwc: np.ndarray, sampler: AffineSampler, sigma: tuple[float, float]) -> np.ndarray:
    """The frame seen from the new height: blurred by ``sigma`` (input px), then bilinear (float)."""
    x = to_float(hwc)
    if max(sigma) > 0:
        x = gaussian_blur(x, sigma, 2)
    return warp_image(x, sampler, spatial_ndim=2, order=1, antialias=False)


def resample_footprint(hwc: np.ndarray, fp: np.ndarray, sampler: AffineSampler,
                       sigma: tuple[float, float]) -> np.ndarray:
    """:func:`resample_frame` with normalised filtering (weights of nodata pixels dropped), so
    nodata never bleeds into the footprint: blur(x·w)/blur(w), then warp(x·w)/warp(w), w = ``fp``."""
    x = masked_copy(hwc, fp)  # x·w (nodata values, NaN included, become 0)
    if x.dtype not in (np.float32, np.float64):
        x = x.astype(np.float32)
    wgt = fp.astype(x.dtype)
    if max(sigma) > 0:
        num = gaussian_blur(x, sigma, 2)
        den = gaussian_blur(wgt, sigma, 2)
        np.maximum(den, 1e-6, out=den)
        np.divide(wgt, den, out=den)  # w / blur(w): blurred values back to x·w units
        np.multiply(num, spread(den, num.shape[-1]), out=num)
        x = num
    y = warp_image(x, sampler, spatial_ndim=2, order=1, antialias=False)
    den = warp_image(wgt, sampler, spatial_ndim=2, order=1, antialias=False)
    np.maximum(den, 1e-6, out=den)
    np.divide(np.float32(1.0), den, out=den)
    np.multiply(y, spread(den.astype(y.dtype, copy=False), y.shape[-1]), out=y)
    return y
