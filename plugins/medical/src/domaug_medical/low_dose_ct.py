"""medical.LowDoseCT: the quantum noise of a CT scan taken at a fraction of the dose."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import (Context, PixelTransform, UnsupportedInputError, check_choice, check_number, check_range,
                        draw_seed, sample_uniform)

from . import ct_noise
from ._base import MedicalMixin, medical_layout
from .intensity import filled_float

MODES = ("auto", "projection", "image")
FILTERS = ("ramp", "shepp-logan", "cosine", "hamming", "hann")


class LowDoseCT(MedicalMixin, PixelTransform):
    """Lower-dose CT: Poisson photon noise in the projections, reconstructed by filtered back-projection.

    Model: Zeng et al., "A simple low-dose X-ray CT simulation from high-dose scan", IEEE TNS
    62(5):2226, 2015 — counts ``Poisson(I0·f·e^{-p}) + N(0, σ_e²)``, log, FBP; σ ∝ 1/√f.

    ``projection`` mode (default for 2-D slices): HU → μ (μ_water = 0.0192/mm × pixel size),
    parallel-beam Radon transform (``ct_noise.radon``: scikit-image's geometry, OpenCV
    rotations), noisy counts, −log, FBP (``skimage.transform.iradon``) of the *difference*
    to the noiseless sinogram, added to the input. Because
    FBP is linear this equals recon(noisy) − recon(noiseless): no reconstruction bias enters,
    only noise with the CT texture (streaks along dense structures included). The input is
    assumed to be a full-dose scan that already carries noise ∝ 1/I0, so the noise added is
    the *difference* in variance, ∝ (1/f − 1)/I0 (simulated at an effective dose
    f/(1 − f)); the total then scales as 1/√f.

    ``image`` mode (default for volumes, an approximation): per slice, Gaussian noise of std
    ``full_dose_noise_hu·√(1/f − 1)`` coloured by a ramp-like noise power spectrum
    NPS(ρ) ∝ ρ·exp(−ρ²/2ρ_p²) (peak at ``nps_peak_per_mm``), independent between slices.
    Far faster than per-slice Radon/FBP, without streaks or dependence on the anatomy.

    Parameters
    ----------
    dose_fraction : float or (low, high)
        Simulated dose relative to the input's, in (0, 1]. Default 0.1–0.5.
    mode : {"auto", "projection", "image"}
        ``auto``: projection for 2-D slices, image for volumes.
    i0 : float
        Full-dose photons per ray and view (projection mode), an effective count that folds
        in the slice thickness. Default 2e6: with 360 views, 0.7 mm pixels and a 32 cm
        water-like body the full-dose noise is then about 30 HU (a thin-slice, sharp-kernel
        level), and the added noise ≈ 30·√(1/f − 1) HU.
    electronic_noise : float
        Std of the detector's electronic noise in counts (projection mode). Default 2.
    n_views : int, optional
        Projection angles over 180° (projection mode); default the image size clipped to
        180–360 (projection and back-projection dominate the cost: ~0.04 s for 128², ~1 s for 512²).
    filter_name : str
        FBP filter (projection mode): ramp, shepp-logan (default), cosine, hamming, hann.
    full_dose_noise_hu : float
        Noise std of the input (image mode), HU. Default 10.
    nps_peak_per_mm : float
        Peak frequency of the noise power spectrum (image mode), cycles/mm. Default 0.3.
    p : float
        Probability of applying.

    Targets: image in HU (the DICOM reader applies the modality LUT), 2-D or 3-D, spacing
    from ``meta["spacing"]`` (default 1 mm). Pixels marked invalid (padding) are kept.
    """

    def __init__(
        self,
        dose_fraction: float | tuple[float, float] = (0.1, 0.5),
        mode: str = "auto",
        i0: float = 2e6,
        electronic_noise: float = 2.0,
        n_views: int | None = None,
        filter_name: str = "shepp-logan",
        full_dose_noise_hu: float = 10.0,
        nps_peak_per_mm: float = 0.3,
        p: float = 1.0,
    ) -> None:
        super().__init__(p=p)
        self.dose_fraction = check_range(dose_fraction, "dose_fraction", low=0, high=1, low_inclusive=False)
        self.mode = check_choice(mode, "mode", MODES)
        self.i0 = check_number(i0, "i0", low=1, high=1e12)
        self.electronic_noise = check_number(electronic_noise, "electronic_noise", low=0)
        self.n_views = None if n_views is None else check_number(n_views, "n_views", low=8, high=10000, integer=True)
        self.filter_name = check_choice(filter_name, "filter_name", FILTERS)
        self.full_dose_noise_hu = check_number(full_dose_noise_hu, "full_dose_noise_hu", low=0)
        self.nps_peak_per_mm = check_number(nps_peak_per_mm, "nps_peak_per_mm", low=0, low_inclusive=False)

    def check_input(self, sample: Mapping[str, Any]) -> None:
        super().check_input(sample)
        modality = str((sample.get("meta") or {}).get("modality") or "").upper()
        if modality and modality != "CT":
            raise UnsupportedInputError(
                f"medical.LowDoseCT needs CT values in HU, the image is {modality} (meta modality)")

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        lay = medical_layout(sample)
        mode = self.mode
        if mode == "auto":
            mode = "image" if lay.is_volume else "projection"
        n_views = self.n_views or min(360, max(180, max(lay.spatial_shape[-2:])))
        return {
            "dose_fraction": sample_uniform(rng, self.dose_fraction),
            "mode": mode,
            "seed": draw_seed(rng),
            "i0": self.i0,
            "electronic_noise": self.electronic_noise,
            "n_views": int(n_views),
            "filter_name": self.filter_name,
            "full_dose_noise_hu": self.full_dose_noise_hu,
            "nps_peak_per_mm": self.nps_peak_per_mm,
        }

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        work = filled_float(image, ctx)
        if float(params["dose_fraction"]) >= 1.0:
            return work
        if params["mode"] == "image":
            work += self.image_noise(params, ctx)
            return work
        slices = work[None] if not ctx.layout.is_volume else work
        seeds = np.random.SeedSequence(int(params["seed"])).generate_state(len(slices), dtype=np.uint64)
        for s, seed in zip(slices, seeds):
            s += self.projection_noise(s, int(seed), params, ctx)
        return work

    @staticmethod
    def image_noise(params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        """Image mode: NPS-coloured Gaussian noise (HU) of the whole image or volume."""
        sigma = ct_noise.added_sigma(float(params["full_dose_noise_hu"]), float(params["dose_fraction"]))
        return ct_noise.image_noise_hu(
            ctx.layout.spatial_shape, spacing_mm=ctx.spacing_mm, sigma_hu=sigma,
            peak_cycles_per_mm=float(params["nps_peak_per_mm"]), seed=int(params["seed"]),
        )

    @staticmethod
    def projection_noise(hu: np.ndarray, seed: int, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        """Projection mode: the noise (HU) Radon → Poisson → FBP adds to one 2-D slice."""
        spacing = ctx.spacing_mm
        return ct_noise.projection_noise_hu(
            hu, pixel_mm=float(np.sqrt(spacing[-1] * spacing[-2])), i0=float(params["i0"]),
            dose_fraction=float(params["dose_fraction"]), electronic_noise=float(params["electronic_noise"]),
            seed=seed, n_views=int(params["n_views"]), filter_name=str(params["filter_name"]),
        )
