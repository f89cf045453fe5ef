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


def is_srgb16(image: np.ndarray, meta: Mapping[str, Any] | None = None) -> bool:
    """True for full-range 16-bit sRGB (encoded in place, codes computed directly)."""
    return image.dtype == np.uint16 and transfer_of(image, meta) == "srgb" and full_scale(image.dtype, meta) == 65535.0


def encode_is_fresh(image: np.ndarray, meta: Mapping[str, Any] | None = None) -> bool:
    """True when :func:`encode` returns a new integer array for ``image`` (8- and 16-bit
    sRGB): the float work it was given may then live in a scratch buffer."""
    return is_srgb8(image, meta) or is_srgb16(image, meta)


def decode(image: np.ndarray, meta: Mapping[str, Any] | None = None, out: np.ndarray | None = None) -> np.ndarray:
    """Linear float32 radiance (1.0 = full scale) of ``image``; never a view of it.

    ``out`` (C-contiguous float32 of ``image``'s shape) receives the result of the
    lookup-table paths (8/16-bit sRGB) when given; other inputs return a new array.
    """
    scale = full_scale(image.dtype, meta)
    transfer = transfer_of(image, meta)
    if transfer == "srgb" and image.dtype in (np.uint8, np.uint16) and scale == np.iinfo(image.dtype).max:
        lut = _decode_lut(int(scale) + 1)
        cv2 = cv2_module()
        if cv2 is not None and image.dtype == np.uint16 and not _cv2_lut16(cv2):  # 16-bit indices: OpenCV ≥ 5
            cv2 = None
        if cv2 is not None and image.flags.c_contiguous and 0 < image.size < 2**31:
            if out is not None:
                cv2.LUT(image.reshape(1, -1), lut, dst=out.reshape(1, -1))
                return out
            return cv2.LUT(image.reshape(1, -1), lut).reshape(image.shape)  # 3–9× np.take
        return np.take(lut, image, out=out)
    x = image.astype(np.float32)
    if scale != 1.0:
        x *= np.float32(1.0 / scale)
    if transfer == "srgb":
        return srgb_to_linear(x)
    return x


def encode(linear: np.ndarray, image: np.ndarray, meta: Mapping[str, Any] | None = None) -> np.ndarray:
    """Back to the encoding and scale of ``image`` (float; the caller restores the dtype).

    ``linear`` may be overwritten. uint8 sRGB goes through :func:`encode_srgb8` (≤ 0.026
    code from exact before rounding; 8-bit codes round-trip exactly) and comes back as
    uint8 already.
    """
    scale = full_scale(image.dtype, meta)
    transfer = transfer_of(image, meta)
    if transfer == "srgb":
        if image.dtype == np.uint8 and scale == 255.0:
            from .scratch import buffer

            flat = linear.reshape(linear.shape[0], -1) if linear.ndim > 1 else linear.reshape(1, -1)
            index = buffer("encode_index_rgb", flat.shape, np.uint16)  # reused: no page faults (see scratch)
            return encode_srgb8(flat, index=index).reshape(linear.shape)
        if scale == 65535.0 and image.dtype == np.uint16 and linear.dtype == np.float32 and linear.flags.writeable:
            return encode_srgb16(linear)
        out = np.asarray(linear_to_srgb(linear), dtype=np.float32)
    else:
        out = linear
    if scale != 1.0:
        out = out * np.float32(scale)
    return out


#: Linear steps of the 8-bit encode table: index = round(x·65535).
_STEPS = 65535


@functools.lru_cache(maxsize=1)
def _encode_lut16() -> np.ndarray:
    """uint8 sRGB code of linear x = i/65535, i = 0..65535 (IEC 61966-2-1, evaluated in float64)."""
    x = np.arange(_STEPS + 1, dtype=np.float64) / _STEPS
    code = np.where(x <= 0.0031308, x * 12.92, 1.055 * x ** (1.0 / 2.4) - 0.055) * 255.0
    lut = np.rint(code).astype(np.uint8)
    lut.flags.writeable = False  # shared by every call
    return lut


@functools.lru_cache(maxsize=1)
def _cv2_lut16(cv2: Any) -> bool:
    """Whether this OpenCV looks up 16-bit indices in ``cv2.LUT`` (OpenCV ≥ 5; 4.x takes 8-bit only)."""
    try:
        got = cv2.LUT(np.array([[0, 300, 65535]], np.uint16), _encode_lut16())
    except Exception:  # cv2.error: unsupported format
        return False
    return got.dtype == np.uint8 and got.tolist() == [_encode_lut16()[[0, 300, 65535]].tolist()]


def encode_srgb8(x: np.ndarray, out: np.ndarray | None = None, index: np.ndarray | None = None) -> np.ndarray:
    """uint8 sRGB codes of linear values ``x`` (2-D; float32 rows may be overwritten).

    The linear value is clipped to [0, 1] and rounded to a multiple of 1/65535, whose code
    a 65 536-entry table holds: the table's argument is off by ≤ 0.5/65535 (+ float32
    rounding), times the steepest slope of the sRGB curve (12.92·255 codes per unit) ≤ 0.026
    code before rounding. With OpenCV it is two SIMD passes: ``cv2.addWeighted`` into uint16
    (scale, round, saturate) and ``cv2.LUT`` with the 16-bit table (OpenCV ≥ 5, else
    ``np.take``); numpy computes the same indices (round half to even, as OpenCV). The
    result goes to ``out`` (uint8, C-contiguous, ``x``'s shape) when given; ``index`` (uint16,
    C-contiguous, ``x``'s shape) is scratch space for the table indices.
    """
    lut = _encode_lut16()
    cv2 = cv2_module()
    if out is None:
        out = np.empty(x.shape, dtype=np.uint8)
    if (cv2 is not None and x.dtype == np.float32 and x.ndim == 2 and x.flags.c_contiguous and x.size
            and x.shape[1] < 2**20):
        idx = np.empty(x.shape, dtype=np.uint16) if index is None else index
        cv2.addWeighted(x, float(_STEPS), x, 0.0, 0.0, dst=idx, dtype=cv2.CV_16U)  # inputs finite: base.fill_invalid
        if _cv2_lut16(cv2):
            cv2.LUT(idx, lut, dst=out)
        else:
            np.take(lut, idx, out=out)
        return out
    y = np.multiply(x, np.float32(_STEPS), dtype=np.float32)
    np.clip(y, 0.0, float(_STEPS), out=y)
    np.rint(y, out=y)
    return np.take(lut, y.astype(np.uint16), out=out)


def encode_srgb16(x: np.ndarray) -> np.ndarray:
    """uint16 sRGB codes of linear float32 values ``x`` (overwritten: the work is done in
    place, so a 1024² frame faults no new pages in). The same float32 operations, in the
    same order, as :func:`linear_to_srgb` followed by ×65535 and rounding half to even:
    the same codes. ``x`` is finite (:func:`base.fill_invalid` fills non-finite pixels)."""
    from .scene import clip_max, clip_min
    from .scratch import buffer

    f32 = np.float32
    knee = f32(0.0031308)
    x = np.ascontiguousarray(x)  # (a copy only for a strided view: the work below is on a view of it)
    flat = x.reshape(x.shape[0], -1) if x.ndim > 1 else x.reshape(1, -1)
    clip_min(flat, 0.0)
    clip_max(flat, 1.0)
    dark = np.less_equal(flat, knee, out=buffer("encode_dark", flat.shape, bool))
    toe = np.multiply(flat, f32(12.92), out=buffer("encode_toe", flat.shape))
    cv2 = cv2_module()
    # the toe's values never reach the power law: raising them to the knee first spares
    # powf its slow path at exact zeros (6× slower: black night skies)
    if cv2 is not None and flat.size and flat.shape[1] < 2**31:
        cv2.max(flat, float(knee), dst=flat)
    else:
        np.maximum(flat, knee, out=flat)
    np.power(flat, f32(1.0 / 2.4), out=flat)
    flat *= f32(1.055)
    flat -= f32(0.055)
    if cv2 is not None and flat.size and flat.shape[1] < 2**31:
        cv2.copyTo(toe, dark.view(np.uint8), flat)  # in place: dst is the same array (4× np.copyto with where)
    else:
        np.copyto(flat, toe, where=dark)
    flat *= f32(65535.0)
    np.rint(flat, out=flat)
    return x.astype(np.uint16)


def decode_planes(image: np.ndarray, meta: Mapping[str, Any] | None = None) -> list[np.ndarray]:
    """Linear float32 radiance of an H×W×3 ``image`` as three C-contiguous H×W planes (R, G, B).

    For 8-bit sRGB the planes live in this thread's scratch buffer (:mod:`.scratch`): they
    are valid until the next call and must not be returned (:func:`encode_planes` copies).

    Planar data lets per-pixel fields (transmission, opacity) multiply a channel without
    first being replicated to three channels; 8-bit sRGB goes through ``cv2.split`` and one
    table lookup per plane.
    """
    if is_srgb8(image, meta) and image.ndim == 3 and image.shape[2] == 3:
        lut = _decode_lut(256)
        cv2 = cv2_module()
        from .scratch import buffer

        out = buffer("planes", (3,) + image.shape[:2])  # reused: no page faults (see scratch)
        if cv2 is not None and 0 < image.size < 2**31 and image.shape[1] < 2**20:
            codes = buffer("codes8", (3,) + image.shape[:2], np.uint8)
            cv2.split(np.ascontiguousarray(image), list(codes))  # into the scratch planes
            for c in range(3):
                cv2.LUT(codes[c], lut, dst=out[c])
        else:
            for c in range(3):
                np.take(lut, image[..., c], out=out[c])
        return list(out)
    from .scratch import buffer

    if encode_is_fresh(image, meta) and image.ndim == 3 and image.shape[2] == 3:  # 16-bit sRGB: scratch too
        lin = decode(image, meta, out=buffer("planes_interleaved", image.shape))
        out = buffer("planes", (3,) + image.shape[:2])
        cv2 = cv2_module()
        if cv2 is not None and 0 < image.size < 2**31 and image.shape[1] < 2**20:
            cv2.split(lin, list(out))  # into the scratch planes
        else:
            for c in range(3):
                np.copyto(out[c], lin[..., c])
        return list(out)
    lin = decode(image, meta)
    return list(np.moveaxis(lin, -1, 0).copy())


def encode_planes(planes: list[np.ndarray], image: np.ndarray, meta: Mapping[str, Any] | None = None) -> np.ndarray:
    """Back from three linear planes to ``image``'s encoding (see :func:`encode`); the planes
    may be overwritten. 8-bit sRGB goes through :func:`encode_srgb8` plane by plane (≤ 0.026
    code from exact before rounding; codes round-trip exactly) and one ``cv2.merge``."""
    if is_srgb8(image, meta) and image.ndim == 3 and image.shape[2] == 3:
        cv2 = cv2_module()
        if cv2 is not None and image.size and image.shape[1] < 2**20:
            from .scratch import buffer

            codes = buffer("codes8", (3,) + image.shape[:2], np.uint8)  # reused: no page faults
            index = buffer("encode_index", image.shape[:2], np.uint16)
            for c, p in enumerate(planes):
                encode_srgb8(np.ascontiguousarray(p, dtype=np.float32), out=codes[c], index=index)
            return cv2.merge(list(codes))
        return np.stack([encode_srgb8(np.ascontiguousarray(p, dtype=np.float32)) for p in planes], axis=-1)
    if encode_is_fresh(image, meta):  # encoded into a new array: the interleaved work may be scratch
        from .scratch import buffer

        work = buffer("planes_interleaved", image.shape[:2] + (len(planes),))
        cv2 = cv2_module()
        if (cv2 is not None and work.size and len(planes) <= 4 and image.shape[1] < 2**20
                and all(p.dtype == np.float32 and p.flags.c_contiguous for p in planes)):
            work = cv2.merge(list(planes), dst=work)
        else:
            np.stack(planes, axis=-1, out=work)
        return encode(work, image, meta)
    return encode(np.stack(planes, axis=-1), image, meta)


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
