"""Colour-space kernels: the sRGB transfer curve and luminance.

Physical effects (light adding up, haze, blur of a scene) happen in *linear* light;
8-bit camera images store sRGB-encoded values. Convert with these before mixing light.
Model: IEC 61966-2-1:1999 (sRGB) piecewise transfer function; ITU-R BT.709 luminance.

Two levels, the same curve:

- :func:`srgb_to_linear` / :func:`linear_to_srgb`: values in [0, 1], any float array
  (the reference; clear and allocating);
- integer codes, fast (lookup tables, OpenCV SIMD, in-place work):
  :func:`srgb_codes_to_linear` (uint8 or full-range uint16 codes → linear float32),
  :func:`linear_to_srgb8` (linear → uint8 codes, ≤ 0.026 code from exact before
  rounding: every code round-trips) and :func:`linear_to_srgb16_in_place` (linear float32
  → uint16 codes, exactly ``rint(linear_to_srgb(x)·65535)``; overwrites its input).
  Use these for whole camera frames: ``lin = srgb_codes_to_linear(img)`` … physics on
  ``lin`` … ``linear_to_srgb8(lin)``.
"""

from __future__ import annotations

import functools
from typing import Any

import numpy as np

from .opencv import cv2_module

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


# -- integer codes: the fast paths -----------------------------------------------------------


@functools.lru_cache(maxsize=4)
def srgb_decode_table(levels: int) -> np.ndarray:
    """Linear value (float32) of each sRGB code 0 … levels − 1 (code / (levels − 1) decoded
    by :func:`srgb_to_linear`): 256 entries for uint8, 65 536 for uint16. Cached and
    read-only (shared by every call)."""
    table = np.asarray(srgb_to_linear(np.arange(levels, dtype=np.float32) / np.float32(levels - 1)), dtype=np.float32)
    table.flags.writeable = False
    return table


def srgb_codes_to_linear(codes: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """Linear light (float32, 1.0 = full scale) of uint8 or full-range uint16 sRGB ``codes``.

    One table lookup per value (:func:`srgb_decode_table`): ``cv2.LUT`` when OpenCV takes
    the dtype (16-bit indices need OpenCV ≥ 5; 3–9× ``np.take``), else ``np.take``. The
    result goes to ``out`` (float32 of ``codes``' shape, C-contiguous) when given, else to a
    new array; never a view of ``codes``.
    """
    if codes.dtype not in (np.uint8, np.uint16):
        raise ValueError(f"srgb_codes_to_linear takes uint8 or uint16 codes, got {codes.dtype}")
    table = srgb_decode_table(int(np.iinfo(codes.dtype).max) + 1)
    cv2 = cv2_module()
    if cv2 is not None and codes.dtype == np.uint16 and not _cv2_lut16(cv2):
        cv2 = None
    if cv2 is not None and codes.flags.c_contiguous and 0 < codes.size < 2**31:
        if out is not None:
            cv2.LUT(codes.reshape(1, -1), table, dst=out.reshape(1, -1))
            return out
        return cv2.LUT(codes.reshape(1, -1), table).reshape(codes.shape)
    return np.take(table, codes, out=out)


#: Linear steps of the 8-bit encode table: index = round(x·65535).
_STEPS = 65535


@functools.lru_cache(maxsize=1)
def _encode_table8() -> np.ndarray:
    """uint8 sRGB code of linear x = i/65535, i = 0..65535 (IEC 61966-2-1, evaluated in float64)."""
    x = np.arange(_STEPS + 1, dtype=np.float64) / _STEPS
    code = np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1.0 / 2.4) - 0.055) * 255.0
    table = np.rint(code).astype(np.uint8)
    table.flags.writeable = False  # shared by every call
    return table


@functools.lru_cache(maxsize=1)
def _cv2_lut16(cv2: Any) -> bool:
    """Whether this OpenCV looks up 16-bit indices in ``cv2.LUT`` (OpenCV ≥ 5; 4.x takes 8-bit only)."""
    try:
        got = cv2.LUT(np.array([[0, 300, 65535]], np.uint16), _encode_table8())
    except Exception:  # cv2.error: unsupported format
        return False
    return got.dtype == np.uint8 and got.tolist() == [_encode_table8()[[0, 300, 65535]].tolist()]


def _rows(x: np.ndarray) -> np.ndarray:
    """``x`` as 2-D (first axis × the rest; a 1-D array as one row): a view when contiguous."""
    return x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(1, -1)


def linear_to_srgb8(x: np.ndarray, out: np.ndarray | None = None, index: np.ndarray | None = None) -> np.ndarray:
    """uint8 sRGB codes of linear values ``x`` (float32 preferred; any shape, not modified).

    The linear value is clipped to [0, 1] and rounded to a multiple of 1/65535, whose code
    a 65 536-entry table holds: the table's argument is off by ≤ 0.5/65535 (+ float32
    rounding), times the steepest slope of the sRGB curve (12.92·255 codes per unit) ≤ 0.026
    code before rounding, so every 8-bit code round-trips through
    :func:`srgb_codes_to_linear`. With OpenCV it is two SIMD passes: ``cv2.addWeighted`` into
    uint16 (scale, round, saturate; ``x`` must be finite) and ``cv2.LUT`` with the 16-bit
    table (OpenCV ≥ 5, else ``np.take``); numpy computes the same indices (round half to
    even, as OpenCV). The result goes to ``out`` (uint8, C-contiguous, ``x``'s shape) when
    given; ``index`` (uint16, C-contiguous, ``x.size`` values) is work space for the table
    indices (a reused buffer spares a large frame its page faults).
    """
    table = _encode_table8()
    if out is None:
        out = np.empty(x.shape, dtype=np.uint8)
    rows = _rows(x)
    cv2 = cv2_module()
    if (cv2 is not None and rows.dtype == np.float32 and rows.flags.c_contiguous and rows.size
            and rows.shape[1] < 2**20):
        idx = np.empty(rows.shape, dtype=np.uint16) if index is None else index.reshape(rows.shape)
        cv2.addWeighted(rows, float(_STEPS), rows, 0.0, 0.0, dst=idx, dtype=cv2.CV_16U)
        if _cv2_lut16(cv2):
            cv2.LUT(idx, table, dst=out.reshape(rows.shape))
        else:
            np.take(table, idx, out=out.reshape(rows.shape))
        return out
    y = np.multiply(x, np.float32(_STEPS), dtype=np.float32)
    np.clip(y, 0.0, float(_STEPS), out=y)
    np.rint(y, out=y)
    return np.take(table, y.astype(np.uint16), out=out)


def linear_to_srgb16_in_place(x: np.ndarray, toe: np.ndarray | None = None, dark: np.ndarray | None = None) -> np.ndarray:
    """uint16 sRGB codes (a new array) of finite linear float32 values ``x``, which are
    overwritten: the work is done in place, so a 1024² frame faults no new pages in.

    The same float32 operations, in the same order, as :func:`linear_to_srgb` followed by
    ×65535 and rounding half to even: the same codes. ``toe`` (float32) and ``dark`` (bool)
    are optional work arrays of ``x.size`` values (C-contiguous; e.g. reused buffers). A
    strided view is encoded like its copy (the work then happens on that copy).
    """
    f32 = np.float32
    knee = f32(0.0031308)
    x = np.ascontiguousarray(x)  # (a copy only for a strided view: the work below is on a view of it)
    flat = _rows(x)
    cv2 = cv2_module() if flat.size and flat.shape[1] < 2**20 else None
    _clip_unit(flat, cv2)
    dark = np.less_equal(flat, knee, out=None if dark is None else dark.reshape(flat.shape))
    toe = np.multiply(flat, f32(12.92), out=None if toe is None else toe.reshape(flat.shape))
    # the toe's values never reach the power law: raising them to the knee first spares
    # powf its slow path at exact zeros (6× slower: black night skies)
    if cv2 is not None:
        cv2.max(flat, float(knee), dst=flat)
    else:
        np.maximum(flat, knee, out=flat)
    np.power(flat, f32(1.0 / 2.4), out=flat)
    flat *= f32(1.055)
    flat -= f32(0.055)
    if cv2 is not None:
        cv2.copyTo(toe, dark.view(np.uint8), flat)  # in place: dst is the same array (4× np.copyto with where)
    else:
        np.copyto(flat, toe, where=dark)
    flat *= f32(65535.0)
    np.rint(flat, out=flat)
    return x.astype(np.uint16)


def _clip_unit(flat: np.ndarray, cv2: Any) -> None:
    """In place: ``flat`` (2-D float32) clipped to [0, 1], NaN → 0 (``cv2.threshold``: ~8×
    faster than ``np.clip``)."""
    if cv2 is not None and flat.dtype == np.float32 and flat.strides[-1] == 4:
        cv2.threshold(flat, 0.0, 0.0, cv2.THRESH_TOZERO, dst=flat)
        cv2.threshold(flat, 1.0, 0.0, cv2.THRESH_TRUNC, dst=flat)
        return
    np.fmax(flat, np.float32(0.0), out=flat)
    np.minimum(flat, np.float32(1.0), out=flat)
