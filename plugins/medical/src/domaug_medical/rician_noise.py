"""medical.RicianNoise: thermal noise of a magnitude MR image."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import (Context, ParameterError, PixelTransform, UnsupportedInputError, check_choice, check_range,
                        draw_seed, full_scale, sample_uniform)

from ._base import MedicalMixin
from .intensity import filled_float

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


#: Voxels per block of :func:`rician` (the block's working arrays stay in the CPU cache).
#: Part of the algorithm: the draws are consumed block by block, so changing it changes outputs.
BLOCK = 1 << 15


def rician(image: np.ndarray, sigma: float, seed: int) -> np.ndarray:
    """``|x + σ(n_re + i·n_im)|`` with ``n_re, n_im ~ N(0, 1)`` i.i.d. (float32 unless float64 input).

    The complex Gaussian is drawn in polar form (Box–Muller): ``n_re + i·n_im = R·e^{iθ}``
    with ``R = √(−2 ln U₁)`` (Rayleigh) and ``θ = 2π U₂``, ``U₁, U₂ ~ U(0, 1)`` from
    ``numpy.random.default_rng(seed)`` (PCG64), exactly Gaussian in distribution and 3× cheaper
    than two ziggurat draws. Block by block (:data:`BLOCK` voxels in C order): the block's
    ``U₁`` then its ``U₂`` (float32 uniforms on a 2⁻²⁴ grid, so ``R`` ≤ 5.8: the
    Rayleigh tail beyond has probability 6·10⁻⁸).
    """
    dtype = np.dtype(np.float64 if image.dtype == np.float64 else np.float32)
    flat = image.reshape(-1)
    n = flat.size
    out = np.empty(n, dtype)
    if n == 0:
        return out.reshape(image.shape)
    rng = np.random.default_rng(seed)
    m = min(BLOCK, n)
    u = np.empty(2 * m, dtype)
    re = np.empty(m, dtype)
    one, two_pi, k = dtype.type(1.0), dtype.type(2.0 * np.pi), dtype.type(-2.0 * float(sigma) ** 2)
    for start in range(0, n, m):
        stop = min(n, start + m)
        size = stop - start
        uu = u[:2 * size].reshape(2, size)  # contiguous, also for the last, shorter block
        rng.random(out=uu, dtype=dtype)
        r, theta = uu[0], uu[1]
        np.subtract(one, r, out=r)  # (0, 1]: no log(0)
        np.log(r, out=r)
        r *= k
        np.sqrt(r, out=r)  # σR
        theta *= two_pi
        c = re[:size]
        np.cos(theta, out=c)
        np.sin(theta, out=theta)
        c *= r
        theta *= r  # σR sin θ
        o = out[start:stop]
        np.copyto(o, flat[start:stop], casting="unsafe")
        o += c
        np.multiply(o, o, out=o)
        np.multiply(theta, theta, out=theta)
        o += theta
        np.sqrt(o, out=o)
    return out.reshape(image.shape)


class RicianNoise(MedicalMixin, PixelTransform):
    """Rician noise of a magnitude MR image: Gaussian noise on the real and imaginary channels, then magnitude.

    Model: Gudbjartsson & Patz, MRM 34(6):910–914, 1995: the magnitude of a complex signal
    with i.i.d. N(0, σ²) noise on both channels is Rician; where there is no signal it is
    Rayleigh (mean σ√(π/2), variance (2 − π/2)σ²). Multi-coil sum-of-squares images
    follow a non-central χ instead; Rician is the single-coil approximation. The complex
    Gaussian is drawn in polar form (Box–Muller) from the recorded seed (see :func:`rician`).

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
                image = filled_float(image, sample)
            sigma = fraction * reference_intensity(image, self.reference)
        return {"sigma": float(sigma), "seed": draw_seed(rng)}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        return rician(image, float(params["sigma"]), int(params["seed"]))
