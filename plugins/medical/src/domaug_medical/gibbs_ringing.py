"""medical.GibbsRinging: truncation ringing of a finite MR acquisition matrix."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, PixelTransform, check_choice, check_range, sample_uniform

from . import kspace
from ._base import MedicalMixin
from .intensity import is_magnitude, read_only_float

AXES = ("inplane", "vertical", "horizontal", "all")


class GibbsRinging(MedicalMixin, PixelTransform):
    """Gibbs (truncation) ringing: oscillations beside sharp edges from a k-space cut off early.

    Model: the image of an acquisition sampling only |k| ≤ k_max is the object convolved with
    a sinc (Dirichlet) kernel: ~9 % overshoot at a step whatever k_max, ripples at ~1/(2 k_max)
    (Gibbs phenomenon; Czervionke et al., Radiology 1988 for MR). The central
    ``keep_fraction`` of k-space is kept along the chosen axes and the rest zero-filled, so
    the matrix size is unchanged.

    Default level: a clinical acquisition matrix reconstructed to a larger one — phase
    resolution 65–90 % (e.g. 256 × 166–230 acquired, zero-filled to 256²), the usual range of
    clinical protocols (McRobbie et al., *MRI from Picture to Proton*, 2nd ed., 2006, ch. 8;
    from memory). Ripples then repeat every ~2.2–3 pixels and the edge blur stays within a
    pixel, instead of the heavy blur of keeping 30–50 % of k-space.

    Parameters
    ----------
    keep_fraction : float or (low, high)
        Fraction of the frequencies up to Nyquist that are kept, in (0, 1]. Default 0.65–0.9.
    axes : {"inplane", "vertical", "horizontal", "all"}
        Axes truncated: both in-plane axes (default), one of them, or all (3-D acquisitions).
    p : float
        Probability of applying.

    Magnitude (MR) images keep the periodic field of view of their k-space; signed images
    (CT, whose border is no k-space period) are mirrored first, so no ringing appears at the
    image border where the object has no edge.

    Targets: image (2-D or 3-D). Magnitude images stay non-negative (|IFFT|).
    """

    def __init__(self, keep_fraction=(0.65, 0.9), axes: str = "inplane", p: float = 1.0) -> None:
        super().__init__(p=p)
        self.keep_fraction = check_range(keep_fraction, "keep_fraction", low=0, high=1, low_inclusive=False)
        self.axes = check_choice(axes, "axes", AXES)

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        return {"keep_fraction": sample_uniform(rng, self.keep_fraction), "axes": self.axes}

    def prepare(self, sample: Mapping[str, Any], params: Mapping[str, Any]) -> Context:
        ctx = super().prepare(sample, params)
        nd = ctx.layout.spatial_ndim
        ctx.truncated_axes = {"inplane": [nd - 2, nd - 1], "vertical": [nd - 2], "horizontal": [nd - 1],
                              "all": list(range(nd))}[params["axes"]]
        return ctx

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        work = read_only_float(image, ctx)  # the FFT kernels only read it
        magnitude = is_magnitude(work)
        out = kspace.truncate(work, axes=ctx.truncated_axes, keep_fraction=float(params["keep_fraction"]),
                              periodic=magnitude)
        return np.abs(out, out=out) if magnitude else out
