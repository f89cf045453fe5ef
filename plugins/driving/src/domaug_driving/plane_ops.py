"""Element-wise operations on float32 H×W planes in one OpenCV SIMD pass (numpy otherwise)."""

from __future__ import annotations

import numpy as np

from domaug.kit import cv2_module

from .fields import linear_upsample_matrix


def multiply(a: np.ndarray, b: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """``out = a·b``, in place in ``a`` when ``out`` is None; returns ``out``."""
    out = a if out is None else out
    cv2 = cv2_module()
    if cv2 is not None and a.flags.c_contiguous and b.flags.c_contiguous and a.size and a.shape[1] < 2**20:
        cv2.multiply(a, b, dst=out)
    else:
        np.multiply(a, b, out=out)
    return out


def upsample(field: np.ndarray, shape: tuple[int, int], out: np.ndarray | None = None) -> np.ndarray:
    """A coarse H'×W' float32 field at ``shape`` (bilinear between cell centres), in ``out``
    (C-contiguous float32 of ``shape``) when given, else a new array."""
    h, w = shape
    field = np.ascontiguousarray(field, dtype=np.float32)
    if out is None:
        out = np.empty((h, w), dtype=np.float32)
    if field.shape == (h, w):
        np.copyto(out, field)
        return out
    cv2 = cv2_module()
    if cv2 is not None and h < 32768 and w < 32768:
        cv2.resize(field, (w, h), dst=out, interpolation=cv2.INTER_LINEAR)
        return out
    np.matmul(linear_upsample_matrix(h, field.shape[0]) @ field, linear_upsample_matrix(w, field.shape[1]).T, out=out)
    return out
