"""Pure kernels for the light in rain: the overcast sky's radiance near the horizon.

Under an overcast sky the airlight of rain's extinction (Koschmieder) is the sky's radiance at
the horizon, and a falling drop shows about the same: it refracts ≈ 165° of its environment
(Garg & Nayar 2007), half of it the overcast sky — on average twice as bright as at the
horizon (CIE overcast sky, L ∝ 1 + 2 sin θ) — and half the darker ground.
"""

from __future__ import annotations

import numpy as np

from .layout import SKY
from .scene import bright_colour

#: Fewer sky cells than this on the coarse grid: the sky is taken from the brightest pixels.
MIN_SKY_CELLS = 30


def coarse_samples(planes: list[np.ndarray], k: int, shape: tuple[int, int]) -> np.ndarray:
    """The planes at the coarse grid's pixels (hs×ws×3 float32; pixel (i, j) = full pixel
    (k·i + k//2, k·j + k//2), as :func:`.scene.coarse_scene`'s ``small``)."""
    hs, ws = shape
    return np.stack([p[k // 2 : hs * k : k, k // 2 : ws * k : k] for p in planes], axis=-1)


def horizon_sky_radiance(small: np.ndarray, labels: np.ndarray) -> np.ndarray:
    """Linear RGB (3,) of the sky near the horizon: the median of the sky cells in the lowest
    quarter of the sky's rows (branches and wires, darker, are outvoted). With < 30 sky cells,
    the mean colour of the brightest 10 % of the frame (the brightest thing under an overcast
    sky is the sky)."""
    sky = labels == SKY
    cum = np.cumsum(np.count_nonzero(sky, axis=1))  # sky cells in the rows up to each row
    n = int(cum[-1]) if len(cum) else 0
    if n < MIN_SKY_CELLS:
        return bright_colour(small).astype(np.float32)
    pos = 0.75 * (n - 1)  # the rows' 75 % quantile (linear, as np.quantile), from the counts
    lo, hi = np.searchsorted(cum, [int(pos), min(int(pos) + 1, n - 1)], side="right")
    r0 = int(np.ceil(lo + (pos - int(pos)) * (hi - lo)))
    if n - (int(cum[r0 - 1]) if r0 else 0) < MIN_SKY_CELLS // 2:
        r0 = 0
    cells = small[r0:][sky[r0:]]
    return np.median(cells[:: 4 if len(cells) >= 4000 else 1], axis=0).astype(np.float32)  # a large sky: every 4th

