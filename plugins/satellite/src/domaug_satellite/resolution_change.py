"""satellite.ResolutionChange: the image a coarser sensor would have taken of the same ground."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import (
    AffineSampler,
    Context,
    ParameterError,
    WarpTransform,
    avoid_nodata,
    check_choice,
    check_number,
    check_range,
    draw_seed,
    gaussian_blur,
    mtf_sigma,
    restore_dtype,
    sample_uniform,
)

from . import bands, resolution_ops as ops
from .pixel_random import pixel_normals


#: MTF gain at Nyquist per band role for common sensors (other roles: the sensor's mean)
SENSOR_GNYQ = {
    "quickbird": {"blue": 0.34, "green": 0.32, "red": 0.30, "nir": 0.22},
    "ikonos": {"blue": 0.26, "green": 0.28, "red": 0.29, "nir": 0.28},
    "geoeye1": {"blue": 0.23, "green": 0.23, "red": 0.23, "nir": 0.23},
    "worldview2": {"coastal": 0.35, "blue": 0.35, "green": 0.35, "yellow": 0.35, "red": 0.35,
                   "rededge": 0.35, "nir": 0.27},
    "generic": {},
}


def _per_band(by_sigma: Mapping[float, np.ndarray], sigmas: Sequence[float], ndim: int) -> np.ndarray:
    """2-D arrays per distinct σ as one array that broadcasts against the image's bands."""
    if ndim == 2:
        return by_sigma[sigmas[0]]
    if len(by_sigma) == 1:
        return by_sigma[sigmas[0]][..., None]
    return np.stack([by_sigma[s] for s in sigmas], axis=-1)


class ResolutionChange(WarpTransform):
    """A coarser sensor: MTF-matched blur, area decimation, new grid (Wald's protocol).

    Model: Wald, Ranchin & Mangolini (PE&RS 63(6), 1997) with the MTF-matched Gaussian of
    pan-sharpening (Vivone et al., IEEE TGRS 53(5), 2015): the total PSF (Gaussian ∗ the
    r-pixel box of the area average) has σ = r·√(−2 ln G)/π input pixels, so its MTF at
    the new Nyquist frequency equals G.

    Parameters
    ----------
    factor : float or (low, high)
        Resolution ratio r ≥ 1: pixel size × r (default 2–4). Output size is
        ``floor(n / r)``, same origin, so bounds stay within one output pixel.
    gain_at_nyquist : float, list per band, or sensor name
        Sensor MTF at the new Nyquist frequency (default 0.3). A name from
        :data:`SENSOR_GNYQ` gives per-band values by band role (pan-sharpening toolbox
        values, Vivone et al. 2015), e.g. ``"quickbird"`` B,G,R,NIR = 0.34, 0.32, 0.30, 0.22.
    same_grid : bool
        Resample back to the original grid (linear) and keep size, transform, masks and
        valid (Albumentations' "Downscale", but with the sensor PSF).
    noise_std : float
        Gaussian noise of the new sensor, reflectance units (default 0).
    bit_depth : int, optional
        Re-quantise to this many bits per unit reflectance (e.g. 8, 10, 12).

    Targets: image (any bands, any dtype; nodata-aware normalised averaging), masks
    (block mode for integer r, nearest otherwise), valid (an output pixel is invalid if
    any pixel of its block is), fields (area mean), bboxes and keypoints (scaled by
    1/r), meta (``transform`` pixel size × r, ``spacing`` × r; CRS unchanged).
    """

    def __init__(self, factor: float | Sequence[float] = (2.0, 4.0),
                 gain_at_nyquist: float | Sequence[float] | str = 0.3,
                 same_grid: bool = False, noise_std: float = 0.0, bit_depth: int | None = None,
                 p: float = 1.0) -> None:
        super().__init__(p=p)
        self.factor = check_range(factor, "factor", low=1, high=64)
        if isinstance(gain_at_nyquist, str):
            check_choice(gain_at_nyquist.lower(), "gain_at_nyquist", list(SENSOR_GNYQ))
            self.gain = gain_at_nyquist.lower()
        else:
            values = [gain_at_nyquist] if np.isscalar(gain_at_nyquist) else list(gain_at_nyquist)
            for v in values:
                check_number(v, "gain_at_nyquist", low=0, high=1, low_inclusive=False, high_inclusive=False)
            self.gain = gain_at_nyquist
        self.same_grid = bool(same_grid)
        self.noise_std = check_number(noise_std, "noise_std", low=0)
        self.bit_depth = None if bit_depth is None else check_number(bit_depth, "bit_depth", low=1, high=32,
                                                                     integer=True)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        bands.require_raster(sample, self.name_for_errors())

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        gains, offsets = bands.reflectance_scaling(sample)
        n = bands.n_bands(sample)
        if isinstance(self.gain, str):
            table = SENSOR_GNYQ[self.gain]
            mean = float(np.mean(list(table.values()))) if table else 0.3
            gnyq = [table.get(role, mean) for role in bands.SATELLITE.names(sample)]
        elif np.isscalar(self.gain):
            gnyq = [float(self.gain)] * n
        else:
            if len(self.gain) != n:
                raise ParameterError(f"gain_at_nyquist has {len(self.gain)} entries but the image has {n} bands")
            gnyq = [float(v) for v in self.gain]
        return {"factor": sample_uniform(rng, self.factor), "gain_at_nyquist": gnyq,
                "same_grid": self.same_grid, "noise_std": self.noise_std, "bit_depth": self.bit_depth,
                "seed": draw_seed(rng), "dn_gain": gains, "dn_offset": offsets}

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        """The coarse grid: pixel size × r from the same origin (``floor(n / r)`` pixels)."""
        ctx = super().prepare(sample, params)
        r = float(params["factor"])
        ctx.unchanged = r == 1.0 and not params["noise_std"] and not params["bit_depth"]
        ctx.regrid = not params["same_grid"] and r != 1.0
        h, w = ctx.layout.spatial_shape
        ctx.sampler = AffineSampler(np.diag([r, r, 1.0]), (h, w), (ops.out_size(h, r), ops.out_size(w, r)))
        return ctx

    # -- targets ---------------------------------------------------------------------
    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        """Sensor PSF (MTF-matched Gaussian), area decimation normalised around nodata, the new
        sensor's noise and quantisation; then the coarse grid, or back onto the input grid."""
        r = float(params["factor"])
        meta, valid = ctx.meta, ctx.valid
        # the Gaussian part of the PSF: the area average adds a box of variance r²/12
        sigmas = [math.sqrt(max(mtf_sigma(r, float(g)) ** 2 - r * r / 12.0, 0.0))
                  for g in params["gain_at_nyquist"]]
        work, weight = _zero_nodata(image, valid)
        blurred = _blur_bands(work, sigmas, image.ndim)
        coarse = ops.block_mean(blurred, r)
        coarse_valid = wblur = None
        if weight is not None:
            coarse, coarse_valid, wblur = _normalised(coarse, weight, valid, sigmas, r, image.ndim)
        coarse = sensor_response(coarse, params, meta)
        if params["same_grid"]:
            fallback = None if wblur is None else blurred / np.maximum(wblur, 1e-12)
            return _on_input_grid(coarse, image, coarse_valid, fallback, r, valid, meta)
        return _on_coarse_grid(coarse, image.dtype, coarse_valid, meta)

    def apply_to_mask(self, mask: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return ops.block_mode(mask, float(params["factor"])) if ctx.regrid else mask.copy()

    def apply_to_valid(self, valid: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return ops.block_all(valid, float(params["factor"])) if ctx.regrid else valid.copy()

    def apply_to_field(self, field: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        if not ctx.regrid:
            return field.copy()
        return ops.block_mean(field, float(params["factor"])).astype(field.dtype)

    def apply_to_bboxes(self, bboxes: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return super().apply_to_bboxes(bboxes, params, ctx) if ctx.regrid else bboxes.copy()

    def apply_to_keypoints(self, keypoints: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return super().apply_to_keypoints(keypoints, params, ctx) if ctx.regrid else keypoints.copy()

    def apply_to_meta(self, meta: Mapping[str, Any], params: Mapping[str, Any], ctx: Context) -> dict:
        if not ctx.regrid:
            return dict(meta)
        out = super().apply_to_meta(meta, params, ctx)
        if out.get("spacing") is not None and len(out["spacing"]) == 3:
            out["spacing"] = list(meta["spacing"])
        return out


def _zero_nodata(image: np.ndarray, valid: np.ndarray | None) -> tuple[np.ndarray, np.ndarray | None]:
    """(float working copy with nodata pixels set to 0, their 0/1 weight), or (copy, None) when all are valid."""
    work = image.astype(np.float64 if image.dtype == np.float64 else np.float32)
    if valid is None or valid.all():
        return work, None
    invalid = np.flatnonzero(~valid.reshape(-1))
    work.reshape(valid.size, -1)[invalid] = 0  # nodata contents never spread
    return work, valid.astype(work.dtype)


def _blur_bands(work: np.ndarray, sigmas: Sequence[float], ndim: int) -> np.ndarray:
    """Each band blurred by its own σ (one pass when they agree)."""
    if len(set(sigmas)) == 1 or ndim == 2:
        return gaussian_blur(work, sigmas[0], 2) if sigmas[0] > 0 else work
    return np.stack([gaussian_blur(work[..., b], s, 2) if s > 0 else work[..., b]
                     for b, s in enumerate(sigmas)], axis=-1)


def _normalised(coarse: np.ndarray, weight: np.ndarray, valid: np.ndarray, sigmas: Sequence[float], r: float,
                ndim: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Nodata-normalised coarse values (one blur and decimation of the mask per distinct σ),
    the coarse valid mask, and the blurred weights (per band)."""
    wb = {s: (gaussian_blur(weight, s, 2) if s > 0 else weight) for s in set(sigmas)}
    den = _per_band({s: ops.block_mean(v, r) for s, v in wb.items()}, sigmas, ndim)
    coarse = np.where(den > 1e-12, coarse / np.maximum(den, 1e-12), 0.0)
    return coarse, ops.block_all(valid, r), _per_band(wb, sigmas, ndim)


def sensor_response(coarse: np.ndarray, params: Mapping[str, Any], meta: Mapping[str, Any]) -> np.ndarray:
    """Noise and re-quantisation of the new sensor, in reflectance units."""
    std, bits = float(params["noise_std"]), params["bit_depth"]
    if not std and not bits:
        return coarse
    g = np.asarray(params["dn_gain"], dtype=np.float64)
    o = np.asarray(params["dn_offset"], dtype=np.float64)
    if coarse.ndim == 2:
        g, o = g[0], o[0]
    rho = coarse * g + o
    if std:
        (r0, c0), _ = bands.window_of({"image": coarse, "meta": meta})
        rho = rho + std * pixel_normals(int(params["seed"]), coarse.shape, (r0, c0), dtype=np.float64)
    if bits:
        levels = 2.0 ** int(bits) - 1
        rho = np.round(rho * levels) / levels
    return (rho - o) / g


def _on_input_grid(coarse: np.ndarray, image: np.ndarray, coarse_valid: np.ndarray | None,
                   fallback: np.ndarray | None, r: float, valid: np.ndarray | None,
                   meta: Mapping[str, Any]) -> np.ndarray:
    """The coarse image interpolated back onto the input grid (normalised by the coarse
    valid mask; ``fallback`` where no valid coarse pixel reaches), nodata pixels kept."""
    h, w = image.shape[:2]
    up_r, up_c = ops.linear_matrix(h, coarse.shape[0], r), ops.linear_matrix(w, coarse.shape[1], r)
    if coarse_valid is None:
        result = ops.apply_separable(coarse, up_r, up_c)
    else:
        cv = coarse_valid.astype(np.float64)
        top = ops.apply_separable(coarse * (cv[..., None] if coarse.ndim == 3 else cv), up_r, up_c)
        bottom = ops.apply_separable(cv, up_r, up_c)
        bottom = bottom[..., None] if top.ndim == 3 else bottom
        result = np.where(bottom > 1e-6, top / np.maximum(bottom, 1e-6), fallback)
    out = restore_dtype(result.astype(np.float64), image.dtype, meta)
    if valid is not None:
        inv = ~valid
        np.copyto(out, image, where=inv[..., None] if out.ndim == 3 else inv)
    return avoid_nodata(out, valid, meta.get("nodata"), meta)


def _on_coarse_grid(coarse: np.ndarray, dtype: np.dtype, coarse_valid: np.ndarray | None,
                    meta: Mapping[str, Any]) -> np.ndarray:
    """The coarse image in the input dtype, coarse pixels with any nodata set to nodata (or 0)."""
    out = restore_dtype(coarse, dtype, meta)
    if coarse_valid is not None:
        fill = meta.get("nodata")
        inv = ~coarse_valid
        inv_b = np.broadcast_to(inv[..., None] if out.ndim == 3 else inv, out.shape)
        out[inv_b] = 0 if fill is None or (isinstance(fill, float) and math.isnan(fill)
                                           and np.issubdtype(out.dtype, np.integer)) else fill
    return avoid_nodata(out, coarse_valid, meta.get("nodata"), meta)
