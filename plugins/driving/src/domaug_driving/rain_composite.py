"""Pure kernel for the rain's one full-resolution pass.

Everything smooth in rain (the overcast relighting, the veil's transmission, the wet road's
gain and mirror) is folded into two half-resolution fields per channel, a gain S and an
offset R; the streaks' opacity α has full-resolution detail. Each output plane is

    out = (1 − min(α, 1))·(I·S + R) + L

with S and R upsampled bilinearly (:func:`.plane_ops.upsample`, one ``cv2.resize`` each): per
channel two resizes and three SIMD passes (measured at 1024²: ≈ 3.7 ms for the three
channels; processing strips of rows that stay in cache was slower, the resize's per-call
cost outweighing the saved memory traffic).
"""

from __future__ import annotations

import numpy as np

from domaug.kit import cv2_module

from .scene import add_product
from .plane_ops import upsample
from .plane_ops import multiply
from .scratch import buffer


def composite(planes: list[np.ndarray], alpha: np.ndarray, gains: list[np.ndarray | None],
              offsets: list[np.ndarray], drop: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out[c] = (1 − min(α, 1))·(planes[c]·S_c + R_c) + drop[c]`` (3×H×W float32), with
    S_c = ``gains[c]`` (half grid; None: 1; the same array for several channels is upsampled
    once) and R_c = ``offsets[c]`` (half grid) upsampled."""
    h, w = planes[0].shape
    oma = one_minus_clipped(alpha, buffer("rain_oma", (h, w)))
    s_full, last = buffer("rain_s_full", (h, w)), None
    for c, p in enumerate(planes):
        o = upsample(offsets[c], (h, w), out=out[c])
        if gains[c] is None:
            o += p
        else:
            if gains[c] is not last:
                upsample(gains[c], (h, w), out=s_full)
                last = gains[c]
            add_product(p, s_full, o)
        multiply(o, oma)
        o += np.float32(drop[c])
    return out


def one_minus_clipped(alpha: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out = 1 − min(α, 1)``: the share of the background the streaks leave seen."""
    cv2 = cv2_module()
    if cv2 is not None and alpha.ndim == 2 and alpha.strides[-1] == 4 and alpha.size and alpha.shape[1] < 2**20:
        cv2.threshold(alpha, 1.0, 0.0, cv2.THRESH_TRUNC, dst=out)
    else:
        np.minimum(alpha, np.float32(1.0), out=out)
    return np.subtract(np.float32(1.0), out, out=out)


