"""medical.Ghosting: periodic ghosts along the MR phase-encoding direction."""

from __future__ import annotations

import warnings
from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, PixelTransform, array_axis, check_range, sample_int, sample_uniform

from . import kspace
from ._base import MedicalMixin, MRArtefactMixin
from .intensity import is_magnitude, read_only_float
from .phase_encoding import check_phase_axis, draw_phase_axis


class Ghosting(MRArtefactMixin, MedicalMixin, PixelTransform):
    """MR ghosting: faint replicas of the object shifted by FOV/n along the phase-encoding axis.

    Model: periodic (line-to-line) signal modulation during the acquisition — e.g. pulsation
    or a periodic motion synchronised with every n-th phase-encoding step — is a comb in
    k-space, which replicates the object every FOV/n (Wood & Henkelman, Med Phys 12(2),
    1985). Every n-th k-space line (the centre line excepted) is scaled by ``1 − intensity``;
    each replica then has ``intensity/n`` of the object's amplitude, so ``intensity =
    n·ghost_ratio``. Magnitude images (no negative values) are returned as ``|IFFT|``,
    signed images as the real part.

    Default level: ghost-to-signal ratios of 1–10 % — the ACR MRI accreditation phantom test
    passes a scanner at ≤ 2.5 % "percent signal ghosting" (ACR MRI Quality Control Manual,
    2015), and N/2 and pulsation ghosts of a few per cent are typical in clinical images
    (Bernstein, King & Zhou, *Handbook of MRI Pulse Sequences*, 2004, §13.4 and §16.1;
    from memory, not looked up here).

    Parameters
    ----------
    num_ghosts : int or (low, high)
        Period n of the modulated lines, i.e. ghosts every FOV/n. Default 2–6.
    ghost_ratio : float or (low, high)
        Amplitude of each ghost as a fraction of the object's signal (the ACR ghosting
        ratio). Default 0.01–0.08.
    intensity : float or (low, high), deprecated
        The old parameter: fraction in [0, 1] removed from every n-th line (ghost ratio
        ``intensity/n``). When given it replaces ``ghost_ratio``.
    phase_axis : {"auto", "vertical", "horizontal", "depth"}
        Phase-encoding axis; ``auto`` uses ``meta["phase_encoding_direction"]`` (DICOM
        ROW/COL) when present, else draws an in-plane axis.
    p : float
        Probability of applying.

    Targets: image (2-D slice or 3-D volume). Other targets pass through.
    An MR artefact: images whose meta says CT are refused (one line).
    """

    mr_effect = "the phase-encoding ghosts"

    def __init__(self, num_ghosts=(2, 6), ghost_ratio=(0.01, 0.08), intensity=None, phase_axis: str = "auto",
                 p: float = 1.0) -> None:
        super().__init__(p=p)
        self.num_ghosts = check_range(num_ghosts, "num_ghosts", low=2, high=64, integer=True)
        self.ghost_ratio = check_range(ghost_ratio, "ghost_ratio", low=0, high=0.5)
        self.intensity = None if intensity is None else check_range(intensity, "intensity", low=0, high=1)
        if intensity is not None:
            warnings.warn("medical.Ghosting: intensity is deprecated; use ghost_ratio (each ghost's amplitude as a "
                          "fraction of the signal, = intensity/num_ghosts)", DeprecationWarning, stacklevel=2)
        self.phase_axis = check_phase_axis(phase_axis)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        n = sample_int(rng, self.num_ghosts)
        if self.intensity is not None:  # the deprecated parameter
            intensity = sample_uniform(rng, self.intensity)
        else:
            intensity = min(1.0, n * sample_uniform(rng, self.ghost_ratio))
        return {"num_ghosts": n, "intensity": intensity, "ghost_ratio": intensity / n,
                "phase_axis": draw_phase_axis(rng, self.phase_axis, sample)}

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        ctx.phase_axis = array_axis(params["phase_axis"], ctx.layout.spatial_ndim)
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        work = read_only_float(image, ctx)  # the FFT kernels only read it
        magnitude = is_magnitude(work)
        out = kspace.ghosting(work, axis=ctx.phase_axis, num_ghosts=int(params["num_ghosts"]),
                              intensity=float(params["intensity"]))
        return np.abs(out, out=out) if magnitude else out
