"""satellite.ResolutionChange: the image a coarser sensor would have taken of the same ground."""

from __future__ import annotations

import math
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.dtypes import avoid_nodata, restore_dtype
from domaug.ops import geometry
from domaug.ops.psf import gaussian_blur, mtf_sigma
from domaug.errors import ParameterError
from domaug.params import check_choice, check_number, check_range, draw_seed, sample_uniform
from domaug.targets import layout_of, valid_of
from domaug.transform import SpatialTransform

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


class ResolutionChange(SpatialTransform):
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
        bands.check_image_2d(sample, "satellite.ResolutionChange")

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        gains, offsets = bands.reflectance_scaling(sample)
        n = bands.n_bands(sample)
        if isinstance(self.gain, str):
            table = SENSOR_GNYQ[self.gain]
            mean = float(np.mean(list(table.values()))) if table else 0.3
            gnyq = [table.get(role, mean) for role in bands.band_roles(sample)]
        elif np.isscalar(self.gain):
            gnyq = [float(self.gain)] * n
        else:
            if len(self.gain) != n:
                raise ParameterError(f"gain_at_nyquist has {len(self.gain)} entries but the image has {n} bands")
            gnyq = [float(v) for v in self.gain]
        return {"factor": sample_uniform(rng, self.factor), "gain_at_nyquist": gnyq,
                "same_grid": self.same_grid, "noise_std": self.noise_std, "bit_depth": self.bit_depth,
                "seed": draw_seed(rng), "dn_gain": gains, "dn_offset": offsets}

    # -- helpers ---------------------------------------------------------------------
    @staticmethod
    def _r(params: Mapping[str, Any]) -> float:
        return float(params["factor"])

    @staticmethod
    def _out_shape(sample: Mapping[str, Any], r: float) -> tuple[int, int]:
        h, w = layout_of(sample).spatial_shape
        return ops.out_size(h, r), ops.out_size(w, r)

    def _matrix(self, params: Mapping[str, Any]) -> np.ndarray:
        r = self._r(params)
        return np.diag([r, r, 1.0])

    def _grid_changes(self, params: Mapping[str, Any]) -> bool:
        return not params["same_grid"] and self._r(params) != 1.0

    # -- targets ---------------------------------------------------------------------
    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], sample: Mapping[str, Any]) -> np.ndarray:
        r = self._r(params)
        if r == 1.0 and not params["noise_std"] and not params["bit_depth"]:
            return image.copy()
        meta = sample.get("meta") or {}
        valid = valid_of(sample)
        # the Gaussian part of the PSF: the area average adds a box of variance r²/12
        sigmas = [math.sqrt(max(mtf_sigma(r, float(g)) ** 2 - r * r / 12.0, 0.0))
                  for g in params["gain_at_nyquist"]]
        work = image.astype(np.float64 if image.dtype == np.float64 else np.float32)
        weight = None
        if valid is not None and not valid.all():
            weight = valid.astype(work.dtype)
            invalid = np.flatnonzero(~valid.reshape(-1))
            work.reshape(valid.size, -1)[invalid] = 0  # nodata contents never spread
        if len(set(sigmas)) == 1 or image.ndim == 2:
            blurred = gaussian_blur(work, sigmas[0], 2) if sigmas[0] > 0 else work
        else:
            blurred = np.stack([gaussian_blur(work[..., b], s, 2) if s > 0 else work[..., b]
                                for b, s in enumerate(sigmas)], axis=-1)
        num = ops.block_mean(blurred, r)
        if weight is not None:
            # normalised weights for nodata: one blur and decimation of the mask per distinct σ
            wb = {s: (gaussian_blur(weight, s, 2) if s > 0 else weight) for s in set(sigmas)}
            den = _per_band({s: ops.block_mean(v, r) for s, v in wb.items()}, sigmas, image.ndim)
            wblur = _per_band(wb, sigmas, image.ndim)
            coarse_valid = ops.block_all(valid, r)
            num = np.where(den > 1e-12, num / np.maximum(den, 1e-12), 0.0)
        else:
            coarse_valid = wblur = None
        num = self._sensor(num, params, meta)
        if params["same_grid"]:
            h, w = image.shape[:2]
            up_r, up_c = ops.linear_matrix(h, num.shape[0], r), ops.linear_matrix(w, num.shape[1], r)
            if coarse_valid is None:
                result = ops.apply_separable(num, up_r, up_c)
            else:
                cv = coarse_valid.astype(np.float64)
                cv_b = cv[..., None] if num.ndim == 3 else cv
                top = ops.apply_separable(num * cv_b, up_r, up_c)
                bottom = ops.apply_separable(cv, up_r, up_c)
                bottom_b = bottom[..., None] if top.ndim == 3 else bottom
                fallback = blurred / np.maximum(wblur, 1e-12)
                result = np.where(bottom_b > 1e-6, top / np.maximum(bottom_b, 1e-6), fallback)
            out = restore_dtype(result.astype(np.float64), image.dtype, meta)
            if valid is not None:
                inv = ~valid
                np.copyto(out, image, where=inv[..., None] if out.ndim == 3 else inv)
            return avoid_nodata(out, valid, meta.get("nodata"), meta)
        out = restore_dtype(num, image.dtype, meta)
        if coarse_valid is not None:
            fill = meta.get("nodata")
            inv = ~coarse_valid
            inv_b = np.broadcast_to(inv[..., None] if out.ndim == 3 else inv, out.shape)
            out[inv_b] = 0 if fill is None or (isinstance(fill, float) and math.isnan(fill)
                                               and np.issubdtype(out.dtype, np.integer)) else fill
        return avoid_nodata(out, coarse_valid, meta.get("nodata"), meta)

    def _sensor(self, coarse: np.ndarray, params: Mapping[str, Any], meta: Mapping[str, Any]) -> np.ndarray:
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

    def apply_to_mask(self, mask, params, sample):
        if not self._grid_changes(params):
            return mask.copy()
        return ops.block_mode(mask, self._r(params))

    def apply_to_valid(self, valid, params, sample):
        if not self._grid_changes(params):
            return valid.copy()
        return ops.block_all(valid, self._r(params))

    def apply_to_field(self, field, params, sample):
        if not self._grid_changes(params):
            return field.copy()
        return ops.block_mean(field, self._r(params)).astype(field.dtype)

    def apply_to_bboxes(self, bboxes, params, sample):
        if not self._grid_changes(params):
            return bboxes.copy()
        return geometry.transform_bboxes(bboxes, self._matrix(params), self._out_shape(sample, self._r(params)))

    def apply_to_keypoints(self, keypoints, params, sample):
        if not self._grid_changes(params):
            return keypoints.copy()
        return geometry.transform_keypoints(keypoints, self._matrix(params), self._out_shape(sample, self._r(params)))

    def apply_to_meta(self, meta, params, sample):
        if not self._grid_changes(params):
            return dict(meta)
        out = geometry.update_meta(meta, self._matrix(params), 2)
        if out.get("spacing") is not None and len(out["spacing"]) == 3:
            out["spacing"] = list(meta["spacing"])
        return out
