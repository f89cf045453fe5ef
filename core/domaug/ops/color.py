"""Colour-space kernels: the sRGB transfer curve and luminance.

Physical effects (light adding up, haze, blur of a scene) happen in *linear* light;
8-bit camera images store sRGB-encoded values. Convert with these before mixing light.
Model: IEC 61966-2-1:1999 (sRGB) piecewise transfer function; ITU-R BT.709 luminance.
"""

from __future__ import annotations

import numpy as np

#: Rec. 709 / sRGB primaries: relative luminance Y = 0.2126 R + 0.7152 G + 0.0722 B (linear RGB).
REC709_WEIGHTS = (0.2126, 0.7152, 0.0722)


def _float(x) -> np.ndarray:
    x = np.asarray(x)
    return x if np.issubdtype(x.dtype, np.floating) else x.astype(np.float32)


def srgb_to_linear(x) -> np.ndarray:
    """Decode sRGB values in [0, 1] to linear light in [0, 1] (IEC 61966-2-1).

    ``x/12.92`` below 0.04045, else ``((x + 0.055)/1.055)**2.4``. Values outside [0, 1]
    are clipped first. Returns a new float array (float32 unless x is float64).
    """
    x = np.clip(_float(x), 0.0, 1.0)
    return np.where(x <= 0.04045, x / 12.92, ((x + 0.055) / 1.055) ** 2.4).astype(x.dtype, copy=False)


def linear_to_srgb(x) -> np.ndarray:
    """Encode linear light in [0, 1] to sRGB values in [0, 1] (IEC 61966-2-1).

    ``12.92·x`` below 0.0031308, else ``1.055·x**(1/2.4) − 0.055``; input clipped to [0, 1].
    """
    x = np.clip(_float(x), 0.0, 1.0)
    return np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1.0 / 2.4) - 0.055).astype(x.dtype, copy=False)


def luminance(rgb_linear) -> np.ndarray:
    """Relative luminance Y of linear RGB (last axis = R, G, B; Rec. 709 weights)."""
    rgb = _float(rgb_linear)
    if rgb.shape[-1] != 3:
        raise ValueError(f"luminance needs a last axis of 3 (R, G, B), got shape {rgb.shape}")
    w = np.asarray(REC709_WEIGHTS, dtype=rgb.dtype)
    return rgb @ w
