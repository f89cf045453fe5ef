"""medical.Blur: the scanner's point-spread function, specified as a FWHM in millimetres."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.dtypes import to_float
from domaug.ops.psf import gaussian_blur
from domaug.params import check_choice, check_range, sample_uniform
from domaug.targets import valid_of
from domaug.transform import PixelTransform

from ._base import MedicalMixin, fill_invalid, medical_layout, spacing_mm

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

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], sample: Mapping[str, Any]) -> np.ndarray:
        lay = medical_layout(sample)
        spacing = spacing_mm(sample, lay)
        sigma_mm = float(params["fwhm_mm"]) / FWHM_PER_SIGMA
        sigmas = [sigma_mm / s for s in spacing]
        if params["axes"] == "inplane" and lay.spatial_ndim == 3:
            sigmas[0] = 0.0
        work = fill_invalid(to_float(image), sample)
        if not any(sigmas):
            return work
        valid = valid_of(sample)
        if valid is None or valid.all():
            return gaussian_blur(work, sigmas, lay.spatial_ndim).astype(work.dtype, copy=False)
        w = valid.astype(work.dtype)
        num = gaussian_blur(work * w, sigmas, lay.spatial_ndim)
        den = gaussian_blur(w, sigmas, lay.spatial_ndim)
        out = np.where(den > 1e-6, num / np.maximum(den, 1e-6), work)
        return out.astype(work.dtype, copy=False)
