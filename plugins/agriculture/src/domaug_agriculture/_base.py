"""Shared plumbing: 2-D only, spectral bands only, alpha and footprint kept bit-exact."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.dtypes import avoid_nodata, full_scale, restore_dtype, to_float
from domaug.targets import valid_of
from domaug.transform import PixelTransform

from . import _fast, bands, light


class AgriPixelTransform(PixelTransform):
    """A pixel transform on drone frames.

    Subclasses implement ``apply_to_bands(x, params, sample, ctx)`` on a float H×W×C
    working copy (all channels, alpha included: they may ignore it). The base refuses
    volumes, writes the alpha channel back untouched and restores every pixel outside
    the footprint (alpha 0, ``valid`` False or ``meta['nodata']``) bit-exact, in the
    input dtype, as well as the pixels a subclass marks in ``ctx["keep"]`` (H×W bool).
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
            "signed": image.dtype.kind in "fi",  # values may be negative
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

    @staticmethod
    def to_linear_units(x: np.ndarray, ctx: Mapping[str, Any]) -> np.ndarray:
        """Working copy → linear light for gains and convolutions only (reuses ``x``).

        Like :meth:`to_linear` but without the division by full scale for linear DN (an
        operation linear in x does not need it): sRGB-decoded [0, 1] for display-coded
        photos, else the DN themselves, negatives clipped to 0.
        """
        if ctx["coded"]:
            return light.decode(x, ctx["full_scale"], True)
        if ctx["signed"]:
            np.maximum(x, 0.0, out=x)
        return x

    @staticmethod
    def from_linear_units(y: np.ndarray, ctx: Mapping[str, Any], clip: bool = True) -> np.ndarray:
        """Inverse of :meth:`to_linear_units`; ``clip=False`` when ``y`` cannot be negative."""
        if ctx["coded"]:
            return light.encode(y, ctx["full_scale"], True)
        if clip:
            np.maximum(y, 0.0, out=y)
        return y

    def map_linear(self, x: np.ndarray, ctx: Mapping[str, Any], fn) -> np.ndarray:
        """Run ``fn(lin, a, b)`` on cache-sized blocks of rows ``a:b`` of ``x`` in linear units; in place.

        ``fn`` gets the block in linear light (:meth:`to_linear_units`) and returns new
        non-negative linear values (a gain ≥ 0), which are encoded back into ``x``.
        Per-pixel chains of numpy operations run 2–3× faster on blocks that stay in cache.
        """
        for a, b in _fast.row_blocks(0, x.shape[0], x.shape[1] * x.shape[2]):
            block = x[a:b]
            out = self.from_linear_units(fn(self.to_linear_units(block, ctx), a, b), ctx, clip=False)
            if out is not block:
                block[...] = out
        return x

    def apply_to_bands(self, x: np.ndarray, params: Mapping[str, Any], sample: Mapping[str, Any], ctx: dict) -> np.ndarray:
        raise NotImplementedError

    def working_copy(self, image: np.ndarray, ctx: Mapping[str, Any]) -> np.ndarray:
        """Float H×W×C copy of the image with every pixel outside the footprint (and NaN/inf) set to 0.

        Outside the footprint the values mean nothing (NaN, -9999): zeroing them keeps
        footprint-weighted filters (weight 0 there) from turning NaN·0 into NaN.
        """
        hwc = bands.as_hwc(image)
        fp = ctx["footprint"]
        if fp is None:
            x = to_float(hwc)
        else:
            x = _fast.masked_copy(hwc, fp)
            if x.dtype not in (np.float32, np.float64):
                x = x.astype(np.float32)
        if hwc.dtype.kind == "f" and x.size:
            with np.errstate(over="ignore", invalid="ignore"):
                finite = np.isfinite(np.minimum.reduce(x, axis=None) + np.maximum.reduce(x, axis=None))
            if not finite:  # NaN/inf somewhere (or a huge range): zero the non-finite values
                np.copyto(x, 0.0, where=~np.isfinite(x))
        return x

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], sample: Mapping[str, Any]) -> np.ndarray:
        """Float result with the alpha band and the pixels outside the footprint put back."""
        ctx = self.context(sample)
        y = self.apply_to_bands(self.working_copy(image, ctx), params, sample, ctx)
        self._put_back(y, bands.as_hwc(image), ctx)
        return y.reshape(image.shape)

    @staticmethod
    def _put_back(y: np.ndarray, original: np.ndarray, ctx: Mapping[str, Any]) -> None:
        alpha = ctx["roles"].get("alpha")
        if alpha is not None:
            y[..., alpha] = original[..., alpha]
        fp = ctx["footprint"]
        keep = ctx.get("keep")  # pixels a subclass left alone (e.g. SoilMoisture's plants)
        if keep is not None:
            fp = ~keep if fp is None else (fp & ~keep)
        if fp is not None:
            if y.dtype == original.dtype:
                _fast.copy_where(y, original, ~fp)
            else:
                np.copyto(y, original, where=~fp[..., None], casting="unsafe")

    def apply(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> dict:
        out = dict(sample)
        image = sample["image"]
        meta = sample.get("meta") or {}
        ctx = self.context(sample)
        y = self.apply_to_bands(self.working_copy(image, ctx), params, sample, ctx)
        # back to the input dtype, then the untouched pixels bit-exact in that dtype (this
        # covers ``finish``'s nodata restore: the footprint lies inside ``valid``)
        result = restore_dtype(y, image.dtype, meta)
        if result is image or not result.flags.writeable or not result.flags.c_contiguous:
            result = np.array(result, order="C")
        self._put_back(result, bands.as_hwc(image), ctx)
        result = result.reshape(image.shape)
        nodata = meta.get("nodata")
        if nodata is not None:
            valid = valid_of(sample)
            quick = (valid is not None and not np.isnan(nodata) and result.ndim == valid.ndim + 1
                     and (result.dtype.kind == "f" or np.iinfo(result.dtype).min <= nodata <= np.iinfo(result.dtype).max))
            if not quick or _fast.any_valid_hit(result, result.dtype.type(nodata), valid):
                result = avoid_nodata(result, valid, nodata, meta)
        out["image"] = result
        return out
