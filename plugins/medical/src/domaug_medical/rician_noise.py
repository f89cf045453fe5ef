"""medical.RicianNoise: thermal noise of a magnitude MR image."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.dtypes import full_scale, to_float
from domaug.errors import ParameterError, UnsupportedInputError
from domaug.params import check_choice, check_range, draw_seed, sample_uniform
from domaug.transform import PixelTransform

from ._base import MedicalMixin, fill_invalid

REFERENCES = ("percentile99", "max", "full_scale")


def reference_intensity(image: np.ndarray, reference: str) -> float:
    """The intensity a relative σ refers to."""
    if reference == "full_scale":
        return full_scale(image.dtype)
    flat = np.abs(image[np.isfinite(image)]) if image.dtype.kind == "f" else np.abs(image)
    if flat.size == 0:
        return 0.0
    if reference == "max":
        return float(flat.max())
    step = max(1, flat.size // 200_000)  # a strided subsample is plenty for a percentile
    return float(np.percentile(flat.ravel()[::step], 99.0))


def rician(image: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """``|x + n_re + i·n_im|`` with ``n ~ N(0, σ²)`` on each channel (float32 unless float64)."""
    work = to_float(image)
    rng = np.random.default_rng(seed)
    dtype = work.dtype
    real = rng.standard_normal(work.shape, dtype=dtype)
    real *= dtype.type(sigma)
    real += work
    imag = rng.standard_normal(work.shape, dtype=dtype)
    imag *= dtype.type(sigma)
    np.multiply(real, real, out=real)
    np.multiply(imag, imag, out=imag)
    real += imag
    return np.sqrt(real, out=real)


class RicianNoise(MedicalMixin, PixelTransform):
    """Rician noise of a magnitude MR image: Gaussian noise on the real and imaginary channels, then magnitude.

    Model: Gudbjartsson & Patz, MRM 34(6):910–914, 1995: the magnitude of a complex signal
    with i.i.d. N(0, σ²) noise on both channels is Rician; where there is no signal it is
    Rayleigh (mean σ√(π/2), variance (2 − π/2)σ²). Multi-coil sum-of-squares images
    follow a non-central χ instead; Rician is the single-coil approximation.

    Parameters
    ----------
    sigma : float or (low, high), optional
        σ per channel in the image's own intensity units (stored values for integer images).
    sigma_fraction : float or (low, high)
        Used when ``sigma`` is not given: σ as a fraction of a reference intensity
        (default 0.01–0.05, i.e. SNR 20–100 for the bright tissue).
    reference : {"percentile99", "max", "full_scale"}
        The reference intensity of ``sigma_fraction`` (99th percentile of |image| by default).
    p : float
        Probability of applying.

    Targets: image (2-D slice or 3-D volume, any dtype; integer outputs are rounded and
    clipped). Everything else passes through.
    """

    def __init__(
        self,
        sigma: float | tuple[float, float] | None = None,
        sigma_fraction: float | tuple[float, float] = (0.01, 0.05),
        reference: str = "percentile99",
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.sigma = None if sigma is None else check_range(sigma, "sigma", low=0)
        self.sigma_fraction = check_range(sigma_fraction, "sigma_fraction", low=0, high=10)
        self.reference = check_choice(reference, "reference", REFERENCES)
        if self.sigma is not None and self.sigma[1] == 0:
            raise ParameterError("sigma must be > 0 for a visible effect, got 0; try sigma=(5, 20)")

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        modality = str((sample.get("meta") or {}).get("modality") or "").upper()
        if modality == "CT":
            raise UnsupportedInputError(
                "medical.RicianNoise models MR magnitude noise; the image is CT (meta modality), "
                "use medical.LowDoseCT for CT quantum noise")

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        if self.sigma is not None:
            sigma = sample_uniform(rng, self.sigma)
        else:
            fraction = sample_uniform(rng, self.sigma_fraction)
            image = sample["image"]
            if self.reference != "full_scale":  # nodata (-9999, NaN) is not signal
                image = fill_invalid(to_float(image), sample)
            sigma = fraction * reference_intensity(image, self.reference)
        return {"sigma": float(sigma), "seed": draw_seed(rng)}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], sample: Mapping[str, Any]) -> np.ndarray:
        return rician(image, float(params["sigma"]), int(params["seed"]))
