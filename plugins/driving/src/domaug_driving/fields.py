"""Smooth random fields for the driving transforms (fog density, snow cover, droplets).

The noise itself is the core's ``domaug.ops.fields.fractal_noise``. What this module adds
(and why it is not just that call): fields much smoother than a pixel are evaluated on a
coarse grid and interpolated, ~10× faster at 1024², and renormalised to zero mean and
unit std over the frame. The driving transforms never evaluate windows of a larger
frame, so they do not need the core's window consistency at full resolution.
"""

from __future__ import annotations

import numpy as np

from domaug.ops.fields import fractal_noise


def _linear_upsample_matrix(n_out: int, n_in: int) -> np.ndarray:
    """n_out×n_in matrix of linear interpolation between pixel centres."""
    x = np.clip((np.arange(n_out) + 0.5) * n_in / n_out - 0.5, 0, n_in - 1)
    i0 = np.floor(x).astype(np.intp)
    i1 = np.minimum(i0 + 1, n_in - 1)
    w = (x - i0).astype(np.float32)
    m = np.zeros((n_out, n_in), dtype=np.float32)
    rows = np.arange(n_out)
    np.add.at(m, (rows, i0), 1.0 - w)
    np.add.at(m, (rows, i1), w)
    return m


def noise_field(shape: tuple[int, int], *, seed: int, scale_px: float, octaves: int = 4) -> np.ndarray:
    """Zero-mean, unit-std smooth noise of feature size ``scale_px`` (float32, ``shape``).

    Fields much smoother than a pixel (``scale_px`` ≥ 64) are evaluated on a grid
    ``scale_px/16`` times coarser and interpolated linearly (``cv2.resize``, or two small
    matrix products without OpenCV), which is ~10× faster and invisible at that smoothness.
    """
    h, w = shape
    factor = int(scale_px // 16) if scale_px >= 64 else 1
    small_shape = (max(2, -(-h // factor)), max(2, -(-w // factor)))
    small_scale = scale_px / factor
    small = np.asarray(fractal_noise(small_shape, seed=seed, scale_px=small_scale, octaves=octaves), dtype=np.float32)
    if factor == 1:
        return small[:h, :w]
    from domaug.ops.opencv import cv2_module

    cv2 = cv2_module()
    if cv2 is not None and h < 32768 and w < 32768:  # same half-pixel-centred linear weights, SIMD
        out = cv2.resize(np.ascontiguousarray(small), (w, h), interpolation=cv2.INTER_LINEAR)
    else:
        out = _linear_upsample_matrix(h, small_shape[0]) @ small @ _linear_upsample_matrix(w, small_shape[1]).T
    out -= out.mean()
    std = float(out.std())
    if std > 0:
        out /= std
    return out.astype(np.float32, copy=False)
