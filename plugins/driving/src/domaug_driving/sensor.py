"""Pure kernels for the camera side of night and low light: illuminants, noise, glowing lamps.

No randomness except from explicit seeds; shared by Night, SunGlare and Exposure.
"""

from __future__ import annotations

import functools

import numpy as np

from domaug.kit import cv2_module, srgb_to_linear

from .scratch import buffer

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
    lin = srgb_to_linear(np.asarray(ILLUMINANTS_SRGB[name], dtype=np.float64) / 255.0)
    return (lin / (lin @ np.array([0.2126, 0.7152, 0.0722]))).astype(np.float32)


def brooks_read_variance(shot: float) -> float:
    """Typical read-noise variance for a shot-noise factor (Brooks et al. 2019 fit, no jitter):
    log(read) = 2.18·log(shot) + 1.20."""
    return float(np.exp(2.18 * np.log(shot) + 1.20))


@functools.lru_cache(maxsize=1)
def _half_normal_table() -> np.ndarray:
    """256 quantiles of N(0, ½) at (i + ½)/256, rescaled to exactly variance ½ (float32)."""
    from scipy.special import ndtri

    q = ndtri((np.arange(256) + 0.5) / 256)
    table = (q / q.std() * np.sqrt(0.5)).astype(np.float32)
    table.flags.writeable = False  # cached and shared
    return table


def _normal_codes(n: int, seed: int) -> np.ndarray:
    """(2, n) independent random bytes from ``seed``: raw PCG64 words (5× faster than
    ``Generator.bytes``)."""
    raw = np.random.PCG64(seed).random_raw(max(1, -(-2 * n // 8)))
    return raw.view(np.uint8)[: 2 * n].reshape(2, n)


def _normal_from_codes(c0: np.ndarray, c1: np.ndarray, out: np.ndarray) -> np.ndarray:
    """``out`` (flat float32, len(c0)) ← table[c0] + table[c1] (cv2.LUT when available)."""
    table = _half_normal_table()
    n = len(c0)
    cv2 = cv2_module()
    if cv2 is not None and 0 < n < 2**31:
        cv2.LUT(c0.reshape(1, n), table, dst=out.reshape(1, n))
        out += cv2.LUT(c1.reshape(1, n), table).reshape(-1)
    else:
        np.take(table, c0, out=out)
        out += np.take(table, c1)
    return out


def fast_normal(shape: tuple[int, ...], seed: int) -> np.ndarray:
    """Standard-normal float32 noise, ~10× faster than ``Generator.standard_normal``.

    The sum of two independent inverse-CDF lookups of random bytes, each N(0, ½) on 256
    quantiles: the sum of two normals is normal, so this is N(0, 1) on 65 536 levels
    (zero mean, unit variance, tails at ±3.8σ; invisible in images). Determined by ``seed``.
    """
    n = int(np.prod(shape))
    codes = _normal_codes(n, seed)
    return _normal_from_codes(codes[0], codes[1], np.empty(n, dtype=np.float32)).reshape(shape)


def add_poisson_gaussian(linear: np.ndarray, shot: float, read: float, seed: int) -> np.ndarray:
    """Heteroscedastic sensor noise in place: x + N(0, shot·x + read) (Brooks et al., CVPR 2019).

    The Gaussian approximation of Poisson shot noise plus Gaussian read noise, per pixel
    and channel, on linear values (1.0 = full scale); negative signal counts as 0. The
    noise is ``fast_normal(linear.shape, seed)``, generated block by block in the cache.
    """
    if not linear.flags.c_contiguous:
        raise ValueError("add_poisson_gaussian needs a C-contiguous array")
    cv2 = cv2_module()
    if (cv2 is not None and linear.dtype == np.float32 and linear.ndim == 2 and 0 < linear.size < 2**31
            and linear.shape[1] < 2**20):
        # a plane: the same noise and operations as below, as whole-plane SIMD passes on
        # this thread's scratch buffers (no per-block Python overhead, no page faults)
        h, w = linear.shape
        codes = _normal_codes(linear.size, seed)
        table = _half_normal_table()
        nz, sd = buffer("noise", (h, w)), buffer("noise_sd", (h, w))
        cv2.LUT(codes[0].reshape(h, w), table, dst=nz)
        cv2.LUT(codes[1].reshape(h, w), table, dst=sd)
        cv2.add(nz, sd, dst=nz)
        cv2.threshold(linear, 0.0, 0.0, cv2.THRESH_TOZERO, dst=sd)  # negative signal counts as 0
        sd *= np.float32(shot)
        sd += np.float32(read)
        cv2.sqrt(sd, dst=sd)
        cv2.multiply(sd, nz, dst=sd)
        cv2.add(linear, sd, dst=linear)
        return linear
    flat = linear.reshape(-1)
    codes = _normal_codes(flat.size, seed)
    step = 32 * int(np.prod(linear.shape[1:]))  # 32 rows per block: temporaries stay in cache
    noise = np.empty(min(step, flat.size), dtype=np.float32)
    std = np.empty_like(noise)
    for a in range(0, flat.size, step):
        x = flat[a : a + step]
        k = len(x)
        nz, sd = noise[:k], std[:k]
        _normal_from_codes(codes[0, a : a + k], codes[1, a : a + k], nz)
        np.maximum(x, 0.0, out=sd)
        sd *= np.float32(shot)
        sd += np.float32(read)
        np.sqrt(sd, out=sd)
        sd *= nz
        x += sd
    return linear


#: Glows and blobs are cut off at 6.3 σ (below 2e-9 of their peak: far below a code of 16-bit output).
GLOW_RADIUS_SIGMAS = 6.3


def add_gaussians(out: np.ndarray, cy, cx, sy, sx, peak) -> np.ndarray:
    """In place: ``out`` (H×W float32) += Σ peak·exp(−½((r+½−cy)/sy)² − ½((c+½−cx)/sx)²).

    Each separable blob is an outer product added inside its ±6.3 σ window only, so the
    cost is the blobs' area (a full-frame matrix product per call is 10–100× slower).
    """
    h, w = out.shape
    f32 = np.float32
    cy, cx, sy, sx, peak = (np.asarray(v, np.float64).reshape(-1) for v in (cy, cx, sy, sx, peak))
    if not len(cy):
        return out
    ry, rx = GLOW_RADIUS_SIGMAS * sy, GLOW_RADIUS_SIGMAS * sx
    r0 = np.clip(np.floor(cy - ry), 0, h).astype(np.int64)
    r1 = np.clip(np.ceil(cy + ry) + 1, 0, h).astype(np.int64)
    c0 = np.clip(np.floor(cx - rx), 0, w).astype(np.int64)
    c1 = np.clip(np.ceil(cx + rx) + 1, 0, w).astype(np.int64)
    ok = (r1 > r0) & (c1 > c0)
    if not ok.any():
        return out
    cy, cx, sy, sx, peak, r0, r1, c0, c1 = (v[ok] for v in (cy, cx, sy, sx, peak, r0, r1, c0, c1))

    def profiles(lo, hi, centre, sigma, scale):
        # every blob's 1-D profile over its window, all in one vectorised pass
        n = hi - lo
        first = np.cumsum(n) - n
        pos = (np.arange(int(n.sum())) - np.repeat(first, n) + np.repeat(lo, n)).astype(f32)
        u = (pos + np.repeat((0.5 - centre).astype(f32), n)) / np.repeat(sigma.astype(f32), n)
        prof = np.exp(f32(-0.5) * u * u)
        if scale is not None:
            prof *= np.repeat(scale.astype(f32), n)
        return prof, first

    gy, fy = profiles(r0, r1, cy, sy, peak)
    gx, fx = profiles(c0, c1, cx, sx, None)
    for i in range(len(cy)):  # windowed outer products: the cost is the blobs' area
        a0, a1, b0, b1 = int(r0[i]), int(r1[i]), int(c0[i]), int(c1[i])
        out[a0:a1, b0:b1] += np.multiply.outer(gy[fy[i] : fy[i] + a1 - a0], gx[fx[i] : fx[i] + b1 - b0])
    return out


def glow_field(shape: tuple[int, int], centres_rc, sigmas_px, colours) -> np.ndarray:
    """Σ colour·exp(−r²/2σ²) of isotropic glows as one (H×n)·(n×3W) matrix product
    (H×W×3 float32): the cheap way on a small grid, whatever the glows' sizes."""
    h, w = shape
    centres = np.asarray(centres_rc, dtype=np.float32).reshape(-1, 2)
    s = np.asarray(sigmas_px, dtype=np.float32).reshape(1, -1)
    colours = np.asarray(colours, dtype=np.float32).reshape(-1, 3)
    gy = np.exp(-0.5 * ((np.arange(h, dtype=np.float32)[:, None] + 0.5 - centres[None, :, 0]) / s) ** 2)
    gx = np.exp(-0.5 * ((np.arange(w, dtype=np.float32)[:, None] + 0.5 - centres[None, :, 1]) / s) ** 2)
    right = (gx.T[:, :, None] * colours[:, None, :]).reshape(len(centres), 3 * w)
    return (gy @ right).reshape(h, w, 3)


def gaussian_glows(
    shape: tuple[int, int],
    centres_rc: np.ndarray,
    sigmas_px: np.ndarray,
    colours: np.ndarray,
    out: np.ndarray | None = None,
) -> np.ndarray:
    """Sum of isotropic Gaussian glows (H×W×3 float32), peak colour ``colours[i]`` at ``centres_rc[i]``.

    Each glow is separable, so it is the outer product of a row and a column profile,
    added only inside its ±6.3 σ window (where it is above 2e-9 of its peak): the cost
    is the glows' area (:func:`add_gaussians` per channel), not a pass over the whole frame
    per glow; glows wider than a quarter of the frame are one matrix product together.
    Added into ``out`` (H×W×3 float32) when given, else into a new zero array.
    """
    h, w = shape
    fresh = out is None
    if fresh:
        out = np.empty((h, w, 3), dtype=np.float32)
    centres = np.asarray(centres_rc, dtype=np.float64).reshape(-1, 2)
    sig = np.asarray(sigmas_px, dtype=np.float64).reshape(-1)
    colours = np.asarray(colours, dtype=np.float32).reshape(-1, 3)
    reach = GLOW_RADIUS_SIGMAS * sig
    wide = (np.minimum(2 * reach, h) * np.minimum(2 * reach, w)) > 0.25 * h * w
    if wide.any():  # glows covering much of the frame: one (H×n)·(n×3W) matrix product
        rows = np.arange(h, dtype=np.float32)[:, None] + 0.5
        cols = np.arange(w, dtype=np.float32)[:, None] + 0.5
        s = sig[wide].astype(np.float32)[None, :]
        gy = np.exp(-0.5 * ((rows - centres[wide, 0].astype(np.float32)[None, :]) / s) ** 2)
        gx = np.exp(-0.5 * ((cols - centres[wide, 1].astype(np.float32)[None, :]) / s) ** 2)
        right = (gx.T[:, :, None] * colours[wide][:, None, :]).reshape(int(wide.sum()), 3 * w)
        if fresh:  # write the product straight into the new array
            np.matmul(gy, right, out=out.reshape(h, 3 * w))
            fresh = False
        else:
            out += (gy @ right).reshape(h, w, 3)
    if fresh:
        out.fill(0.0)
    narrow = ~wide
    if narrow.any():
        for c in range(3):  # windowed outer products per channel
            add_gaussians(out[..., c], centres[narrow, 0], centres[narrow, 1], sig[narrow], sig[narrow],
                          colours[narrow, c])
    return out
