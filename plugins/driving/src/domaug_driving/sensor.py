"""Pure kernels for the camera side of night and low light: illuminants, noise, glowing lamps.

No randomness except from explicit seeds; shared by Night, SunGlare and Exposure.
"""

from __future__ import annotations

import functools

import numpy as np

#: Linear-RGB colour of light sources, normalised to unit luminance (Rec. 709 Y = 1).
#: From blackbody chromaticities: high-pressure sodium ≈ 2000 K, warm LED ≈ 3000 K,
#: neutral/cool LED street light ≈ 4000–5000 K, halogen headlamp ≈ 3200 K.
ILLUMINANTS_SRGB = {
    "sodium": (255, 137, 14),  # ≈ 2000 K
    "warm_led": (255, 180, 107),  # ≈ 3000 K
    "led": (255, 209, 163),  # ≈ 4000 K
    "cool_led": (255, 228, 206),  # ≈ 5000 K
    "halogen": (255, 187, 120),  # ≈ 3200 K
    "tail_light": (255, 20, 10),
}


def illuminant_rgb(name: str) -> np.ndarray:
    """Linear RGB (3,) of a named illuminant with luminance 1."""
    code = np.asarray(ILLUMINANTS_SRGB[name], dtype=np.float64) / 255.0
    lin = np.where(code <= 0.04045, code / 12.92, ((code + 0.055) / 1.055) ** 2.4)
    return (lin / (lin @ np.array([0.2126, 0.7152, 0.0722]))).astype(np.float32)


def brooks_read_variance(shot: float) -> float:
    """Typical read-noise variance for a shot-noise factor (Brooks et al. 2019 fit, no jitter):
    log(read) = 2.18·log(shot) + 1.20."""
    return float(np.exp(2.18 * np.log(shot) + 1.20))


@functools.lru_cache(maxsize=1)
def _normal_table() -> np.ndarray:
    """4096 standard-normal quantiles at (i + ½)/4096, rescaled to exactly unit variance."""
    from scipy.special import ndtri

    q = ndtri((np.arange(4096) + 0.5) / 4096)
    table = (q / q.std()).astype(np.float32)
    table.flags.writeable = False  # cached and shared
    return table


def fast_normal(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Standard-normal float32 noise, ~5× faster than ``Generator.standard_normal``.

    Inverse-CDF table lookup of 12-bit uniform integers: zero mean, unit variance,
    tails truncated at ±3.4σ (invisible in images). Determined by ``seed``.
    """
    rng = np.random.default_rng(seed)
    n = int(np.prod(shape))
    idx = np.frombuffer(rng.bytes(2 * n), dtype=np.uint16) >> np.uint16(4)
    return np.take(_normal_table(), idx).reshape(shape)


def add_poisson_gaussian(linear: np.ndarray, shot: float, read: float, seed: int) -> np.ndarray:
    """Heteroscedastic sensor noise in place: x + N(0, shot·x + read) (Brooks et al., CVPR 2019).

    The Gaussian approximation of Poisson shot noise plus Gaussian read noise, per pixel
    and channel, on linear values (1.0 = full scale); negative signal counts as 0.
    """
    std = np.maximum(linear, 0.0)
    std *= np.float32(shot)
    std += np.float32(read)
    np.sqrt(std, out=std)
    std *= fast_normal(linear.shape, seed)
    linear += std
    return linear


def gaussian_glows(
    shape: tuple[int, int],
    centres_rc: np.ndarray,
    sigmas_px: np.ndarray,
    colours: np.ndarray,
) -> np.ndarray:
    """Sum of isotropic Gaussian glows (H×W×3 float32), peak colour ``colours[i]`` at ``centres_rc[i]``.

    Each glow is separable, so all of them are two matrix products per channel:
    ``G_y · diag(c) · G_xᵀ`` — no per-light pass over the image.
    """
    h, w = shape
    out = np.zeros((h, w, 3), dtype=np.float32)
    if len(centres_rc) == 0:
        return out
    rows = np.arange(h, dtype=np.float32)[:, None] + 0.5
    cols = np.arange(w, dtype=np.float32)[:, None] + 0.5
    s = np.asarray(sigmas_px, dtype=np.float32)[None, :]
    gy = np.exp(-0.5 * ((rows - np.asarray(centres_rc, np.float32)[None, :, 0]) / s) ** 2)
    gx = np.exp(-0.5 * ((cols - np.asarray(centres_rc, np.float32)[None, :, 1]) / s) ** 2)
    colours = np.asarray(colours, dtype=np.float32)
    for c in range(3):
        out[..., c] = (gy * colours[None, :, c]) @ gx.T
    return out
