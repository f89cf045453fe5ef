"""Element-wise operations on float32 H×W planes in one OpenCV SIMD pass (numpy otherwise)."""

from __future__ import annotations

import numpy as np

from domaug.kit import cv2_module


def multiply(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``out = a·b``, in place in ``a`` when ``out`` is None; returns ``out``."""
    out = a if out is None else out
    cv2 = cv2_module()
    if cv2 is not None and a.flags.c_contiguous and b.flags.c_contiguous and a.size and a.shape[1] < 2**20:
        cv2.multiply(a, b, dst=out)
    else:
        np.multiply(a, b, out=out)
    return out
