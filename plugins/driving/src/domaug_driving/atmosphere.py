"""Pure kernels for light travelling through air: Koschmieder's law and its parameters.

No randomness and no I/O: the Fog, Rain and Snow transforms call these.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from domaug.kit import cv2_module, linear_to_srgb, srgb_decode_table

from .scratch import buffer

#: Rows per block in multi-pass kernels: each block's temporaries stay in the CPU cache
#: (2–3× faster than whole-frame passes on 1024² RGB).
CHUNK_ROWS = 64
#: −ln(0.05): meteorological optical range V is where contrast falls to 5 % (CIE / WMO).
LN20 = math.log(20.0)


def beta_from_visibility(visibility_m: float) -> float:
    """Extinction coefficient β (1/m) for meteorological optical range V (m): β = ln 20 / V ≈ 2.996/V."""
    return LN20 / float(visibility_m)


def visibility_from_beta(beta_per_m: float) -> float:
    """Meteorological optical range V (m) of extinction β (1/m)."""
    return LN20 / float(beta_per_m)


def rain_extinction_per_m(rain_rate_mm_h: float) -> float:
    """Extinction of rain (1/m): β = 0.312·R^0.67 km⁻¹ (Weber et al. 2015, as used by Halder et al. 2019)."""
    return 0.312 * float(rain_rate_mm_h) ** 0.67 / 1000.0


def transmission(distance_m: np.ndarray, beta: float | np.ndarray) -> np.ndarray:
    """t = exp(−β·ℓ) (float32). ``beta`` is a number or a field of ``distance_m``'s shape."""
    x = np.multiply(distance_m, np.float32(beta) if np.isscalar(beta) else beta, dtype=np.float32)
    np.negative(x, out=x)
    return np.exp(x, out=x)


def koschmieder(linear: np.ndarray, t: np.ndarray, airlight: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """I = J·t + A·(1 − t) on linear RGB ``linear`` (H×W×3), ``t`` H×W, ``airlight`` (3,).

    Computed as (J − A)·t + A into ``out`` (a new float32 array when None; ``out=linear``
    works in place).
    """
    a = np.asarray(airlight, dtype=np.float32).reshape(-1)
    if out is None:
        out = np.empty(linear.shape, dtype=np.float32)
    t = np.asarray(t, dtype=np.float32)
    cv2 = _cv2_for(linear, t) if out.flags.c_contiguous else None
    if cv2 is not None:  # same float32 operations and order as below, SIMD on interleaved RGB
        scalar = (float(a[0]), float(a[-1 if len(a) == 1 else 1]), float(a[-1]), 0.0)
        for r in range(0, linear.shape[0], CHUNK_ROWS):
            tc, oc = t[r : r + CHUNK_ROWS], out[r : r + CHUNK_ROWS]
            cv2.subtract(linear[r : r + CHUNK_ROWS], scalar, dst=oc)
            cv2.multiply(oc, cv2.merge((tc, tc, tc)), dst=oc)
            cv2.add(oc, scalar, dst=oc)
        return out
    for r in range(0, linear.shape[0], CHUNK_ROWS):
        lo, tc = linear[r : r + CHUNK_ROWS], t[r : r + CHUNK_ROWS]
        if np.all(a == a[0]):  # grey: scalar operations are much faster than a broadcast (3,)
            oc = out[r : r + CHUNK_ROWS]
            np.subtract(lo, a[0], out=oc)
            oc *= tc[..., None]
            oc += a[0]
            continue
        for c in range(3):  # scalar airlight per channel (a (3,) broadcast has 3-item inner loops)
            oc = out[r : r + CHUNK_ROWS, :, c]
            np.subtract(lo[..., c], a[c], out=oc)
            oc *= tc
            oc += a[c]
    return out


def estimate_airlight(linear: np.ndarray | None, sky: np.ndarray | None, fallback: float) -> list[float]:
    """Atmospheric light from the sky: median colour of its brightest 1 % (grey ``fallback`` if no sky).

    A simpler cousin of Sakaridis et al.'s estimator (median of the brightest dark-channel
    pixels), restricted to the pixels the depth prior calls sky. ``linear`` may be a
    decimated copy of the image with ``sky`` on the same grid.
    """
    if sky is None or not sky.any() or linear is None:
        return [float(fallback)] * 3
    step = max(1, int(np.sqrt(sky.size / 65536)))  # ≈ 65 k samples are plenty
    sub = sky[::step, ::step]
    px = linear[::step, ::step][sub] if sub.any() else linear[sky]
    y = px @ np.array([0.2126, 0.7152, 0.0722], dtype=np.float32)
    k = max(1, len(y) // 100)
    top = np.argpartition(y, len(y) - k)[len(y) - k :]
    return [float(v) for v in np.median(px[top], axis=0)]


#: Steps of the √-indexed 8-bit encode table of :func:`koschmieder_srgb8`.
SQRT_STEPS = 16384


@functools.lru_cache(maxsize=2)
def _sqrt_encode_table8() -> np.ndarray:
    """uint8 sRGB code of linear x = (i/16384)², i = 0..16384 (indexing by √x keeps the
    table small enough for the L1/L2 cache and its error under 0.05 code)."""
    u = np.arange(SQRT_STEPS + 1, dtype=np.float64) / SQRT_STEPS
    lut = np.rint(linear_to_srgb((u * u).astype(np.float32)).astype(np.float64) * 255.0).astype(np.uint8)
    lut.flags.writeable = False  # shared by every call
    return lut


def koschmieder_srgb8(image: np.ndarray, t: np.ndarray, airlight: float, levels: int = 2048) -> np.ndarray:
    """Koschmieder's law on 8-bit sRGB in one lookup: uint8 H×W×3 in, uint8 out.

    Equivalent to decode → J·t + A·(1 − t) → encode, with t quantised on
    u = √(1 − t) (``levels`` steps: fine near t = 1, where dark outputs need it; error
    ≤ 0.1 code on top of the final rounding). A table of (t level × input code) replaces five float passes over
    the frame by one gather. ``airlight`` is grey (linear, fraction of full scale).
    """
    # the table is rebuilt per airlight: reused buffers, no page faults
    n = levels - 1
    u = np.arange(levels, dtype=np.float64) / n
    t_levels = (1.0 - u * u).astype(np.float32)[:, None]  # (levels, 1)
    j = srgb_decode_table(256)[None, :]  # (1, 256)
    lut_lin = np.multiply(j, t_levels, out=buffer("fog_lut_lin", (levels, 256)))
    lut_lin += np.float32(airlight) * (1.0 - t_levels)
    np.clip(lut_lin, 0.0, 1.0, out=lut_lin)
    np.sqrt(lut_lin, out=lut_lin)
    lut_lin *= SQRT_STEPS
    lut_lin += 0.5
    index = buffer("fog_lut_index", (levels, 256), np.intp)  # take's own index type: no converted copy
    np.copyto(index, lut_lin, casting="unsafe")  # truncation, = .astype(np.uint32): 0 … SQRT_STEPS
    lut = np.take(_sqrt_encode_table8(), index, out=buffer("fog_lut", (levels, 256), np.uint8), mode="clip").ravel()
    out = np.empty(image.shape, dtype=np.uint8)
    h, w = image.shape[:2]
    q_buf = buffer("fog_q", (CHUNK_ROWS, w))
    row_buf = buffer("fog_row", (CHUNK_ROWS, w), np.int32)
    idx_buf = buffer("fog_idx", (CHUNK_ROWS,) + image.shape[1:], np.int32)
    for r in range(0, h, CHUNK_ROWS):  # row blocks: temporaries stay in cache
        m = min(CHUNK_ROWS, h - r)
        q = np.subtract(np.float32(1.0), t[r : r + m], out=q_buf[:m])
        np.maximum(q, 0.0, out=q)
        np.sqrt(q, out=q)
        q *= np.float32(n)
        q += np.float32(0.5)
        row = row_buf[:m]
        np.copyto(row, q, casting="unsafe")  # truncation: level 0 … n (t in [0, 1])
        row *= 256
        idx = np.add(row[..., None], image[r : r + m], out=idx_buf[:m])
        np.take(lut, idx, out=out[r : r + m], mode="wrap")  # indices in range: wrap = raise, minus a copy of out
    return out


def _cv2_for(linear: np.ndarray, weights: np.ndarray):
    """OpenCV when both arrays suit its 3-channel float32 kernels, else None."""
    ok = (linear.dtype == np.float32 and linear.ndim == 3 and linear.shape[2] == 3 and linear.flags.c_contiguous
          and weights.dtype == np.float32 and weights.flags.c_contiguous and linear.shape[1] < 2**20)
    return cv2_module() if ok else None


def blend_towards(linear: np.ndarray, colour: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """In place: I ← I + α·(C − I) for a colour C (3,) and an opacity map α (H×W).

    Row blocks; with OpenCV each block is three SIMD passes over interleaved RGB
    (C − I, ×α, +I), the same float32 operations in the same order as the numpy path.
    """
    col = np.asarray(colour, dtype=np.float32).reshape(-1)
    cv2 = _cv2_for(linear, alpha)
    if cv2 is not None:
        scalar = (float(col[0]), float(col[1]), float(col[2]), 0.0)
        for r in range(0, linear.shape[0], CHUNK_ROWS):
            lc, ac = linear[r : r + CHUNK_ROWS], alpha[r : r + CHUNK_ROWS]
            tmp = cv2.subtract(scalar, lc)
            cv2.multiply(tmp, cv2.merge((ac, ac, ac)), dst=tmp)
            cv2.add(lc, tmp, dst=lc)
        return linear
    for r in range(0, linear.shape[0], CHUNK_ROWS):
        ac = alpha[r : r + CHUNK_ROWS]
        tmp = np.empty(ac.shape, dtype=np.float32)
        for c in range(3):
            lc = linear[r : r + CHUNK_ROWS, :, c]
            np.subtract(col[c], lc, out=tmp)
            tmp *= ac
            lc += tmp
    return linear
