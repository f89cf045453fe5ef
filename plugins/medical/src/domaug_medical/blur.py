"""medical.Blur: the scanner's point-spread function, specified as a FWHM in millimetres."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, PixelTransform, check_choice, check_range, gaussian_blur, sample_uniform

from ._base import MedicalMixin
from .intensity import filled_float

FWHM_PER_SIGMA = 2.0 * math.sqrt(2.0 * math.log(2.0))


class Blur(MedicalMixin, PixelTransform):
    """Lower spatial resolution: a Gaussian point-spread function with a FWHM in mm.

    Model: the image is the object convolved with the system PSF; a Gaussian of FWHM F has
    σ = F / (2√(2 ln 2)) mm, i.e. σ/spacing voxels per axis (a softer reconstruction kernel
    in CT, a lower acquisition matrix in MR; Prince & Links, Medical Imaging Signals and
    Systems, ch. 3). Anisotropic spacing is respected; padding pixels (``valid`` False) do
    not bleed into the image (normalised convolution).

    Parameters
    ----------
    fwhm_mm : float or (low, high)
        PSF full width at half maximum, mm (spacing from meta, default 1 mm). Default 0.5–2.
    axes : {"inplane", "all"}
        Blur the two in-plane axes (default) or every axis of a volume.
    p : float
        Probability of applying.

    Targets: image (2-D or 3-D). Other targets pass through.
    """

    def __init__(self, fwhm_mm=(0.5, 2.0), axes: str = "inplane", p: float = 1.0) -> None:
        super().__init__(p=p)
        self.fwhm_mm = check_range(fwhm_mm, "fwhm_mm", low=0)
        self.axes = check_choice(axes, "axes", ("inplane", "all"))

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        return {"fwhm_mm": sample_uniform(rng, self.fwhm_mm), "axes": self.axes}

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        sigma_mm = float(params["fwhm_mm"]) / FWHM_PER_SIGMA
        ctx.sigmas = [sigma_mm / s for s in ctx.spacing_mm]  # per axis, voxels
        if params["axes"] == "inplane" and ctx.layout.spatial_ndim == 3:
            ctx.sigmas[0] = 0.0
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        work = filled_float(image, ctx)
        if not any(ctx.sigmas):
            return work
        nd, valid = ctx.layout.spatial_ndim, ctx.valid
        if valid is None or valid.all():
            return gaussian_blur(work, ctx.sigmas, nd).astype(work.dtype, copy=False)
        w = valid.astype(work.dtype)  # normalised convolution: padding does not bleed in
        num = gaussian_blur(work * w, ctx.sigmas, nd)
        den = gaussian_blur(w, ctx.sigmas, nd)
        out = np.where(den > 1e-6, num / np.maximum(den, 1e-6), work)
        return out.astype(work.dtype, copy=False)
