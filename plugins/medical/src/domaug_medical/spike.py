"""medical.Spike: herringbone stripes from a corrupted k-space sample."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, PixelTransform, check_range, sample_int, sample_uniform

from . import kspace
from ._base import MedicalMixin, MRArtefactMixin, medical_layout
from .intensity import filled_float, is_magnitude, mean_abs


class Spike(MRArtefactMixin, MedicalMixin, PixelTransform):
    """MR spike (herringbone) artefact: one or a few bright points in k-space become stripes.

    Model: a discharge or RF burst corrupts single k-space samples; the pair ±k of amplitude
    A adds ``A·cos(2π k·r/N + φ)``, oblique stripes over the whole field of view (Zhang et
    al., MRM 2001, "spike noise"); magnitude images show its absolute value. The stripes
    are added directly (mathematically the same as editing the FFT, and cheaper).

    Parameters
    ----------
    num_spikes : int or (low, high)
        Number of corrupted k-space points. Default 1.
    intensity : float or (low, high)
        Stripe amplitude relative to the mean absolute intensity of the image. Default 0.1–0.4.
    min_frequency : float
        Smallest spike distance from the k-space centre, as a fraction of Nyquist. Default 0.1.
    p : float
        Probability of applying.

    Targets: image (2-D or 3-D; 3-D volumes get a 3-D k-space point).
    An MR artefact: images whose meta says CT are refused (one line).
    """

    mr_effect = "the k-space spike (herringbone)"

    def __init__(self, num_spikes=1, intensity=(0.1, 0.4), min_frequency: float = 0.1, p: float = 1.0) -> None:
        super().__init__(p=p)
        self.num_spikes = check_range(num_spikes, "num_spikes", low=1, high=32, integer=True)
        self.intensity = check_range(intensity, "intensity", low=0)
        self.min_frequency = float(check_range(min_frequency, "min_frequency", low=0, high=0.95)[0])

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        lay = medical_layout(sample)
        n = sample_int(rng, self.num_spikes)
        ref = mean_abs(sample)
        spikes = []
        for _ in range(n):
            while True:
                frac = rng.uniform(-1.0, 1.0, size=lay.spatial_ndim)
                if np.max(np.abs(frac)) >= self.min_frequency:
                    break
            pos = [int(np.clip(round(f * (s // 2)), -(s // 2), s // 2)) for f, s in zip(frac, lay.spatial_shape)]
            spikes.append({"position": pos, "amplitude": sample_uniform(rng, self.intensity) * ref,
                           "phase": float(rng.uniform(0, 2 * np.pi))})
        return {"spikes": spikes}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        sp = params["spikes"]
        work = filled_float(image, ctx)
        return kspace.spikes(work, positions=[s["position"] for s in sp],
                             amplitudes=[s["amplitude"] for s in sp], phases=[s["phase"] for s in sp],
                             magnitude=is_magnitude(work), inplace=True)
