"""Light added to 8-bit sRGB frames in 16-bit linear codes: a few SIMD passes instead of a float pipeline.

Glare and the light a water drop refracts are added light: ``out = sRGB(min(1, L·k + G))``
with L the frame's linear radiance. For an 8-bit frame all of it fits 16-bit linear codes of
1/8191.875 (8× headroom above full scale, so that glare beyond saturation still reaches the
highlight shoulder as in float; finer than half the smallest gap between 8-bit codes in linear
light, so every code round-trips): a table lookup decodes the frame to codes, the smooth coarse
fields are upsampled as codes, saturating multiplies and adds combine them and a second table
lookup encodes (clipping at full scale, as the sensor) — each pass over 6 MiB at 1024², not
three float32 planes of 12 MiB. Local effects (the highlight shoulder, the sun's disc, crisp
ghosts) edit their patches in float. Results equal the float paths to ±1 code (tested).
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np

from domaug.kit import cv2_module, linear_to_srgb8, lut8, srgb_codes_to_linear

from .scratch import buffer

#: Headroom: code 65535 is this many times the sensor's full scale, so that glare beyond
#: saturation still reaches the highlight shoulder (which compresses it below 1) as in float.
HEADROOM = 8.0
#: Linear full scale (1.0) in codes.
FULL = 65535.0 / HEADROOM
#: The largest code.
TOP = 65535.0


@functools.lru_cache(maxsize=1)
def decode_table16() -> np.ndarray:
    """uint16 linear code round(L·65535/HEADROOM) of every 8-bit sRGB code (every code
    round-trips through :func:`encode_table8`: 1/8191 steps are finer than half the smallest
    gap between 8-bit codes in linear light, 0.5/255/12.92)."""
    lin = srgb_codes_to_linear(np.arange(256, dtype=np.uint8))
    return np.rint(lin.astype(np.float64) * FULL).astype(np.uint16)


@functools.lru_cache(maxsize=1)
def encode_table8() -> np.ndarray:
    """uint8 sRGB code of every 16-bit linear code (:func:`domaug.kit.linear_to_srgb8`; 255 from full scale up)."""
    return linear_to_srgb8(np.minimum(np.arange(65536, dtype=np.float64) / FULL, 1.0).astype(np.float32))


def _cv2(*arrays: np.ndarray) -> Any:
    cv2 = cv2_module()
    if cv2 is None or any(not a.flags.c_contiguous or a.size == 0 or a.shape[1] >= 2**15 for a in arrays):
        return None
    return cv2


def decode16(frame: np.ndarray) -> np.ndarray:
    """H×W×3 uint16 linear codes (scratch) of an 8-bit sRGB frame."""
    out = buffer("glare_codes", frame.shape, np.uint16)
    cv2 = _cv2(frame)
    if cv2 is not None:
        cv2.LUT(frame, decode_table16(), dst=out)
    else:
        np.take(decode_table16(), frame, out=out)
    return out


def add_field(codes: np.ndarray, planes: list[np.ndarray]) -> None:
    """In place, saturating: ``codes[..., c] += 65535/HEADROOM·F_c``, F three hs×ws float32 planes
    (cell centres at (i + ½)·H/hs) upsampled bilinearly."""
    h, w = codes.shape[:2]
    cap = np.float32(TOP / FULL)  # no code beyond the top
    small = [(np.minimum(p, cap) * np.float32(FULL) + np.float32(0.5)).astype(np.uint16) for p in planes]  # rounded
    cv2 = _cv2(codes)
    if cv2 is not None:
        full = cv2.resize(cv2.merge(small), (w, h), dst=buffer("glare_field16", codes.shape, np.uint16),
                          interpolation=cv2.INTER_LINEAR)
        cv2.add(codes, full, dst=codes)
        return
    from .plane_ops import upsample

    for c in range(3):
        up = upsample(small[c].astype(np.float32), (h, w))
        np.rint(up, out=up)
        up += codes[..., c]
        np.minimum(up, TOP, out=up)
        codes[..., c] = up


def add_layer16(codes: np.ndarray, box: tuple[int, int, int, int], light: np.ndarray) -> None:
    """In place, saturating: ``codes[y0:y1, x0:x1, c] += light[c]`` (linear, 3×h×w float32)."""
    y0, y1, x0, x1 = box
    for c in range(3):
        x = light[c] * np.float32(FULL)
        x += codes[y0:y1, x0:x1, c]
        np.minimum(x, TOP, out=x)
        x += np.float32(0.5)  # rounded by the truncating cast
        codes[y0:y1, x0:x1, c] = x


def _patch(codes: np.ndarray, row: float, col: float, reach: float) -> tuple[int, int, int, int] | None:
    h, w = codes.shape[:2]
    y0, y1 = int(max(0, math.floor(row - reach))), int(min(h, math.ceil(row + reach + 1)))
    x0, x1 = int(max(0, math.floor(col - reach))), int(min(w, math.ceil(col + reach + 1)))
    return None if y0 >= y1 or x0 >= x1 else (y0, y1, x0, x1)


def shoulder16(codes: np.ndarray, row: float, col: float, radius: float, knee: float = 0.7) -> None:
    """In place: :func:`.flare.shoulder` on the codes' patch around (row, col), the three
    channels at once (only pixels above the knee change)."""
    box = _patch(codes, row, col, radius)
    if box is None:
        return
    y0, y1, x0, x1 = box
    patch = codes[y0:y1, x0:x1]
    k = np.uint16(knee * FULL)
    hot = (patch[..., 0] > k) | (patch[..., 1] > k) | (patch[..., 2] > k)
    rows, cols = np.nonzero(hot.any(axis=1))[0], np.nonzero(hot.any(axis=0))[0]
    if not rows.size:  # nothing above the knee: the shoulder changes nothing
        return
    y0, y1, x0, x1 = y0 + int(rows[0]), y0 + int(rows[-1]) + 1, x0 + int(cols[0]), x0 + int(cols[-1]) + 1
    patch = codes[y0:y1, x0:x1]
    yy = (np.arange(y0, y1, dtype=np.float32) + np.float32(0.5 - row))[:, None]
    xx = (np.arange(x0, x1, dtype=np.float32) + np.float32(0.5 - col))[None, :]
    span = np.float32(1.0 - knee)
    weight = np.clip(2.0 - 2.0 * np.sqrt(yy * yy + xx * xx) / np.float32(radius), 0.0, 1.0) * (span * np.float32(FULL))
    x = patch.astype(np.float32)
    t = np.multiply(x, np.float32(1.0 / (span * FULL)))
    t -= np.float32(knee / span)
    np.maximum(t, 0.0, out=t)
    one_t = t + np.float32(1.0)
    t *= t
    t /= one_t
    t *= weight[..., None]
    x -= t  # x − s·(t − t/(1 + t)), in codes
    x += np.float32(0.5)  # rounded by the truncating cast
    patch[...] = x


def saturate_disc16(codes: np.ndarray, row: float, col: float, radius: float) -> None:
    """In place: the sun's disc saturates every channel."""
    box = _patch(codes, row, col, radius)
    if box is None:
        return
    y0, y1, x0, x1 = box
    yy = (np.arange(y0, y1) + 0.5 - row)[:, None]
    xx = (np.arange(x0, x1) + 0.5 - col)[None, :]
    codes[y0:y1, x0:x1][yy * yy + xx * xx <= radius * radius] = np.uint16(TOP)


@functools.lru_cache(maxsize=1)
def _lut16(cv2: Any) -> bool:
    """Whether this OpenCV looks up 16-bit indices (OpenCV ≥ 5; 4.x takes 8-bit only)."""
    try:
        got = cv2.LUT(np.array([[0, 300, 65535]], np.uint16), encode_table8())
    except Exception:  # cv2.error: unsupported format
        return False
    return got.tolist() == [encode_table8()[[0, 300, 65535]].tolist()]


def encode8(codes: np.ndarray) -> np.ndarray:
    """uint8 sRGB frame (new array) of 16-bit linear codes."""
    cv2 = _cv2(codes)
    if cv2 is not None and _lut16(cv2):
        return cv2.LUT(codes, encode_table8())
    return np.take(encode_table8(), codes)


def veil8(frame: np.ndarray, veil: float) -> np.ndarray:
    """uint8 sRGB frame (new array) with a uniform veil of linear ``veil`` added: one lookup."""
    table = encode_table8()[np.minimum(decode_table16().astype(np.float64) + round(veil * FULL), TOP).astype(np.intp)]
    out = lut8(np.ascontiguousarray(frame), table)  # SIMD byte lookup (stringzilla / cv2)
    return np.take(table, frame) if out is None else out


def blend8(region: np.ndarray, keep: np.ndarray, light: np.ndarray) -> None:
    """In place on 8-bit sRGB rows (C-contiguous H×W×3): linear ``L·keep/65535 + light``, ``keep``
    and ``light`` uint16 H×W×3 (a fraction in 1/65535, linear codes)."""
    codes = decode16(region)
    cv2 = _cv2(codes, keep, light)
    if cv2 is not None and _lut16(cv2):
        cv2.multiply(codes, keep, dst=codes, scale=1.0 / 65535.0)
        cv2.add(codes, light, dst=codes)
        cv2.LUT(codes, encode_table8(), dst=region)
        return
    mix = codes * (keep * np.float32(1.0 / 65535.0))
    mix += light
    np.clip(np.rint(mix), 0.0, TOP, out=mix)
    np.take(encode_table8(), mix.astype(np.uint16), out=region)
