"""Linear light for the driving transforms: decode pixels to radiance, encode back, check RGB.

Weather and light add or multiply *radiance*, so every light-dependent driving transform
works on linear float32 values where 1.0 is the sensor's full scale:

- integer images (uint8, uint16, int16) are taken as sRGB-encoded (IEC 61966-2-1) and
  decoded; uint8 (and full-range uint16) go through a lookup table, much faster than
  the power law;
- float images are taken as linear radiance already (values may exceed 1: HDR);
- ``meta["transfer"] = "linear"`` declares an integer image linear (raw/HDR sensor data),
  ``meta["transfer"] = "srgb"`` declares a float image sRGB-encoded.

:func:`encode` goes back to the input's encoding; the base class then rounds and clips
to the dtype.
"""

from __future__ import annotations

import functools
from typing import Any, Mapping

import numpy as np

from domaug.dtypes import full_scale
from domaug.errors import UnsupportedInputError
from domaug.ops.color import linear_to_srgb, luminance, srgb_to_linear  # re-exported for the transforms
from domaug.ops.opencv import cv2_module
from domaug.targets import layout_of

TRANSFERS = ("srgb", "linear")


@functools.lru_cache(maxsize=4)
def _decode_lut(levels: int) -> np.ndarray:
    """Linear value of each code 0..levels-1 (float32)."""
    lut = np.asarray(srgb_to_linear(np.arange(levels, dtype=np.float32) / np.float32(levels - 1)), dtype=np.float32)
    lut.flags.writeable = False  # shared by every call
    return lut


_ENC_STEPS = 16384


@functools.lru_cache(maxsize=2)
def _encode_lut8() -> np.ndarray:
    """uint8 sRGB code of linear x = (i/16384)², i = 0..16384 (indexing by √x keeps the
    table small enough for the L1/L2 cache and its error under 0.05 code)."""
    u = np.arange(_ENC_STEPS + 1, dtype=np.float64) / _ENC_STEPS
    lut = np.rint(linear_to_srgb((u * u).astype(np.float32)).astype(np.float64) * 255.0).astype(np.uint8)
    lut.flags.writeable = False  # shared by every call
    return lut


def transfer_of(image: np.ndarray, meta: Mapping[str, Any] | None) -> str:
    """``"srgb"`` or ``"linear"``: how the stored values relate to radiance."""
    declared = (meta or {}).get("transfer")
    if declared is not None:
        if declared not in TRANSFERS:
            raise UnsupportedInputError(f"meta['transfer'] must be one of {TRANSFERS}, got {declared!r}")
        return declared
    return "linear" if np.issubdtype(image.dtype, np.floating) else "srgb"


def is_srgb8(image: np.ndarray, meta: Mapping[str, Any] | None = None) -> bool:
    """True for plain 8-bit sRGB (the lookup-table fast paths)."""
    return image.dtype == np.uint8 and transfer_of(image, meta) == "srgb" and full_scale(image.dtype, meta) == 255.0


def decode(image: np.ndarray, meta: Mapping[str, Any] | None = None) -> np.ndarray:
    """Linear float32 radiance (1.0 = full scale) of ``image``; never a view of it."""
    scale = full_scale(image.dtype, meta)
    transfer = transfer_of(image, meta)
    if transfer == "srgb" and image.dtype in (np.uint8, np.uint16) and scale == np.iinfo(image.dtype).max:
        lut = _decode_lut(int(scale) + 1)
        cv2 = cv2_module() if image.dtype == np.uint8 else None
        if cv2 is not None and image.flags.c_contiguous and 0 < image.size < 2**31:
            return cv2.LUT(image.reshape(1, -1), lut).reshape(image.shape)  # 3–5× np.take
        return np.take(lut, image)
    x = image.astype(np.float32)
    if scale != 1.0:
        x *= np.float32(1.0 / scale)
    if transfer == "srgb":
        return srgb_to_linear(x)
    return x


def encode(linear: np.ndarray, image: np.ndarray, meta: Mapping[str, Any] | None = None) -> np.ndarray:
    """Back to the encoding and scale of ``image`` (float; the caller restores the dtype).

    ``linear`` may be overwritten. uint8 sRGB goes through a 16 385-entry table indexed
    by √linear and comes back as uint8 already (exact rounding but for 0.4 % of values
    within 0.05 code of a half-code, which may land one code off).
    """
    scale = full_scale(image.dtype, meta)
    transfer = transfer_of(image, meta)
    if transfer == "srgb":
        if image.dtype == np.uint8 and scale == 255.0:
            out8 = np.empty(linear.shape, dtype=np.uint8)
            lut = _encode_lut8()
            cv2 = cv2_module() if linear.dtype == np.float32 and linear.flags.c_contiguous else None
            for r in range(0, linear.shape[0], 64):  # row blocks: temporaries stay in cache
                x = linear[r : r + 64]
                np.clip(x, 0.0, 1.0, out=x)
                if cv2 is not None:  # correctly rounded like np.sqrt, SIMD
                    cv2.sqrt(x.reshape(x.shape[0], -1), dst=x.reshape(x.shape[0], -1))
                else:
                    np.sqrt(x, out=x)
                x *= np.float32(_ENC_STEPS)
                x += np.float32(0.5)
                np.take(lut, x.astype(np.uint16), out=out8[r : r + 64])  # indices ≤ 16384.5
            return out8
        out = np.asarray(linear_to_srgb(linear), dtype=np.float32)
    else:
        out = linear
    if scale != 1.0:
        out = out * np.float32(scale)
    return out


def check_rgb_2d(sample: Mapping[str, Any], who: str) -> None:
    """Refuse volumes and anything but 3-channel images, naming the transform."""
    lay = layout_of(sample)
    if lay.is_volume:
        raise UnsupportedInputError(
            f"{who} works on 2-D camera frames, got a {lay.spatial_ndim}-D volume of shape {sample['image'].shape}"
        )
    if not lay.has_channels or lay.n_channels != 3:
        raise UnsupportedInputError(
            f"{who} needs an RGB image (H×W×3), got {lay.n_channels} channel(s) in shape {sample['image'].shape}"
        )
