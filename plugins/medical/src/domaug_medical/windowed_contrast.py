"""medical.WindowedContrast: a tissue-contrast change confined to an HU (or intensity) window."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, ParameterError, PixelTransform, check_range, sample_log_uniform, sample_uniform, to_float

from ._base import MedicalMixin


class WindowedContrast(MedicalMixin, PixelTransform):
    """Contrast change inside an HU window only: a gamma curve between the window edges.

    Model: values in ``[L − W/2, L + W/2]`` are mapped by ``L − W/2 + W·t^γ`` with
    ``t = (v − L + W/2)/W`` (a monotone gamma curve, continuous at both edges); values
    outside the window are unchanged, so air, fat or bone keep their calibrated HU while
    soft-tissue contrast varies as with different contrast phases or kernels. Works in
    the image's own units for MR.

    Parameters
    ----------
    window_center : float or (low, high)
        Window level L in HU (image units). Default 40 (soft tissue).
    window_width : float or (low, high)
        Window width W in HU. Default 400.
    gamma : float or (low, high)
        Exponent γ, drawn log-uniformly. Default 0.7–1.4 (γ < 1 brightens the window).
    p : float
        Probability of applying.

    Targets: image (2-D or 3-D). Other targets pass through.
    """

    def __init__(self, window_center=40.0, window_width=400.0, gamma=(0.7, 1.4), p: float = 1.0) -> None:
        super().__init__(p=p)
        self.window_center = check_range(window_center, "window_center")
        self.window_width = check_range(window_width, "window_width", low=0, low_inclusive=False)
        self.gamma = check_range(gamma, "gamma", low=0, low_inclusive=False)
        if self.gamma == (1.0, 1.0):
            raise ParameterError("gamma=1 does nothing; try gamma=(0.7, 1.4)")

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        return {"window_center": sample_uniform(rng, self.window_center),
                "window_width": sample_uniform(rng, self.window_width),
                "gamma": sample_log_uniform(rng, self.gamma)}

    def apply_to_image(self, image: np.ndarray, params: Mapping[str, Any], ctx: Context) -> np.ndarray:
        work = to_float(image)
        width = float(params["window_width"])
        low = float(params["window_center"]) - width / 2.0
        t = (work - low) / width
        inside = (t > 0) & (t < 1)
        # the curve only inside the window: outside it (often most of a CT: air) the voxel
        # keeps its value, and powf would take its slow path at the clipped zeros
        np.power(t, np.asarray(params["gamma"], t.dtype), out=t, where=inside)
        t *= width  # mapped = low + width·t^γ
        t += low
        return np.where(inside, t, work).astype(work.dtype, copy=False)
