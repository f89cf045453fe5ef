"""core.GaussianBlur: defocus / optical low-pass as a Gaussian point-spread function."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from ..errors import ParameterError, UnsupportedInputError
from ..ops import psf
from ..params import check_range, sample_uniform
from ..targets import layout_of, valid_of
from ..transform import Context, PixelTransform


class GaussianBlur(PixelTransform):
    """Blur by a Gaussian point-spread function (defocus, lens or detector MTF).

    Model: Gaussian PSF of std σ, MTF ``exp(-2π²σ²f²)`` (f in cycles/pixel); see
    :func:`domaug.ops.psf.mtf_sigma` to pick σ from an MTF-at-Nyquist gain.
    Every spatial axis is blurred (in-plane and through-plane for volumes), bands never mix.

    Parameters
    ----------
    sigma_px : float or (low, high)
        PSF standard deviation in pixels, the same on every spatial axis. Default (0.8, 2.0).
    sigma_mm : float or (low, high), optional
        PSF standard deviation in physical units of ``meta["spacing"]`` (mm for medical,
        m for geo data); overrides ``sigma_px`` and gives a per-axis σ in pixels
        (``sigma_mm / spacing``), so anisotropic voxels get an isotropic physical blur.
        Needs ``meta["spacing"]``.
    p : float
        Probability of applying.

    Nodata pixels (``valid`` False or ``meta["nodata"]``) are excluded by normalised
    convolution, so fill values such as −9999 never bleed into valid pixels.

    Targets: image (2-D, multi-band, volumes); every other target passes through.
    """

    def __init__(self, sigma_px=(0.8, 2.0), sigma_mm=None, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.sigma_px = check_range(sigma_px, "sigma_px", low=0, high=1000)
        self.sigma_mm = None if sigma_mm is None else check_range(sigma_mm, "sigma_mm", low=0, high=10000)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        if self.sigma_mm is not None:
            spacing = (sample.get("meta") or {}).get("spacing")
            lay = layout_of(sample)
            if spacing is None or len(spacing) < lay.spatial_ndim:
                raise UnsupportedInputError(
                    f"GaussianBlur(sigma_mm=...) needs meta['spacing'] with {lay.spatial_ndim} entries, "
                    f"got {spacing!r}; give sigma_px instead"
                )

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        lay = layout_of(sample)
        if self.sigma_mm is None:
            return {"sigma_px": [sample_uniform(rng, self.sigma_px)] * lay.spatial_ndim}
        sigma = sample_uniform(rng, self.sigma_mm)
        spacing = (sample.get("meta") or {})["spacing"][:lay.spatial_ndim]
        if any(not float(s) > 0 for s in spacing):
            raise ParameterError(f"meta['spacing'] must be positive, got {spacing!r}")
        return {"sigma_px": [sigma / float(s) for s in spacing], "sigma_mm": sigma}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        lay = layout_of(ctx)
        sigma = params["sigma_px"]
        return psf.masked_filter(image, valid_of(ctx), lambda a: psf.gaussian_blur(a, sigma, lay.spatial_ndim, integer_out=True))
