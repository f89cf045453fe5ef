"""medical.WindowedContrast: a tissue-contrast change confined to an HU (or intensity) window."""

from __future__ import annotations

import math
from typing import Any, Mapping

import numpy as np

from domaug.kit import Context, ParameterError, PixelTransform, check_range, sample_uniform, to_float

from ._base import MedicalMixin
from .intensity import filled_float, looks_like_ct

#: The soft-tissue window of CT (level 40 HU, width 400 HU), the usual abdominal/mediastinal window.
CT_SOFT_TISSUE_WINDOW = (40.0, 400.0)
#: |ln γ| below this is not drawn: a curve that close to the identity moves soft tissue by
#: under ~15 HU in a 400 HU window (γ within 0.905–1.105), less than the image noise.
MIN_LOG_GAMMA = 0.1


def draw_gamma(rng: np.random.Generator, bounds: tuple[float, float]) -> float:
    """γ log-uniform in ``bounds`` but never within ``exp(±MIN_LOG_GAMMA)`` of 1 when the
    range allows another value (each side of 1 in proportion to its log length)."""
    lo, hi = math.log(bounds[0]), math.log(bounds[1])
    if lo == hi:
        return float(bounds[0])
    below = max(0.0, min(hi, -MIN_LOG_GAMMA) - lo)
    above = max(0.0, hi - max(lo, MIN_LOG_GAMMA))
    if below + above == 0.0:  # the whole range is near 1: as given
        return float(math.exp(rng.uniform(lo, hi)))
    u = rng.uniform(0.0, below + above)
    return float(math.exp(lo + u if u < below else max(lo, MIN_LOG_GAMMA) + (u - below)))


def auto_window(sample: Mapping[str, Any]) -> tuple[float, float, str]:
    """(level, width, source) of the window when none is given: CT soft tissue, else the
    DICOM VOI window of meta, else the 1st–99th percentiles of the image."""
    if looks_like_ct(sample):
        return CT_SOFT_TISSUE_WINDOW + ("ct_soft_tissue",)
    meta = sample.get("meta") or {}
    if meta.get("window_center") is not None and meta.get("window_width"):
        return float(meta["window_center"]), float(meta["window_width"]), "dicom_voi"
    image = filled_float(sample["image"], sample)
    lo, hi = (float(v) for v in np.percentile(image, [1.0, 99.0])) if image.size else (0.0, 1.0)
    return 0.5 * (lo + hi), max(hi - lo, 1e-6), "percentiles"


class WindowedContrast(MedicalMixin, PixelTransform):
    """Contrast change inside an HU window only: a gamma curve between the window edges.

    Model: values in ``[L − W/2, L + W/2]`` are mapped by ``L − W/2 + W·t^γ`` with
    ``t = (v − L + W/2)/W`` (a monotone gamma curve, continuous at both edges); values
    outside the window are unchanged, so air, fat or bone keep their calibrated HU while
    soft-tissue contrast varies as with different contrast phases or kernels. Works in
    the image's own units for MR.

    Default level: the soft-tissue window W400/L40 of abdominal and mediastinal reading
    (e.g. Brant & Helms, *Fundamentals of Diagnostic Radiology*, CT chapter; cited from
    memory) and γ 0.7–1.4 with the near-identity band 0.905–1.105 left out, so every draw
    moves mid-window tissue by 14–48 HU: more than routine CT noise (10–20 HU), of the
    order of the enhancement between unenhanced and portal-phase liver (~50 HU). Water
    (0 HU) lies inside the window and moves with it (by 15–51 HU).

    Parameters
    ----------
    window_center : float or (low, high), optional
        Window level L in HU (image units). Default: 40 HU for CT (the soft-tissue window
        W400/L40), else the DICOM window of meta, else the middle of the 1st–99th percentiles.
    window_width : float or (low, high), optional
        Window width W. Default: 400 HU for CT, else as the level.
    gamma : float or (low, high)
        Exponent γ, drawn log-uniformly. Default 0.7–1.4 (γ < 1 brightens the window); values
        within 0.905–1.105 are not drawn (they change less than the noise).
    p : float
        Probability of applying.

    Targets: image (2-D or 3-D). Other targets pass through.
    """

    def __init__(self, window_center=None, window_width=None, gamma=(0.7, 1.4), p: float = 1.0) -> None:
        super().__init__(p=p)
        self.window_center = None if window_center is None else check_range(window_center, "window_center")
        self.window_width = (None if window_width is None
                             else check_range(window_width, "window_width", low=0, low_inclusive=False))
        self.gamma = check_range(gamma, "gamma", low=0, low_inclusive=False)
        if self.gamma == (1.0, 1.0):
            raise ParameterError("gamma=1 does nothing; try gamma=(0.7, 1.4)")

    def make_params(self, rng: np.random.Generator, sample: Mapping[str, Any]) -> dict:
        source = "given"
        if self.window_center is None or self.window_width is None:
            level, width, source = auto_window(sample)
        center = sample_uniform(rng, self.window_center) if self.window_center is not None else level
        width = sample_uniform(rng, self.window_width) if self.window_width is not None else width
        return {"window_center": center, "window_width": width, "gamma": draw_gamma(rng, self.gamma),
                "window_source": source}

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
