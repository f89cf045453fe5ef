"""Linear light for the driving transforms: decode pixels to radiance, encode back, check RGB.

Weather and light add or multiply *radiance*, so every light-dependent driving transform
works on linear float32 values where 1.0 is the sensor's full scale:

- integer images (uint8, uint16, int16) are taken as sRGB-encoded (IEC 61966-2-1) and
  decoded; uint8 (and full-range uint16) go through the core's lookup-table codecs
  (:func:`domaug.kit.srgb_codes_to_linear`, :func:`~domaug.kit.linear_to_srgb8`,
  :func:`~domaug.kit.linear_to_srgb16_in_place`), much faster than the power law;
- float images are taken as linear radiance already (values may exceed 1: HDR);
- ``meta["transfer"] = "linear"`` declares an integer image linear (raw/HDR sensor data),
  ``meta["transfer"] = "srgb"`` declares a float image sRGB-encoded.

:func:`encode` goes back to the input's encoding; the base class then rounds and clips
to the dtype. :func:`decode_planes` / :func:`encode_planes` do the same for three H×W
planes (per-pixel fields then multiply a plane directly). Intermediates live in this
thread's scratch buffers (:mod:`.scratch`).
"""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import (
    UnsupportedInputError,
    cv2_module,
    full_scale,
    layout_of,
    linear_to_srgb,
    linear_to_srgb8,
    linear_to_srgb16_in_place,
    srgb_codes_to_linear,
    srgb_to_linear,
)

from .scratch import buffer

TRANSFERS = ("srgb", "linear")


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
        return srgb_codes_to_linear(image, out=out)
    x = image.astype(np.float32)
    if scale != 1.0:
        x *= np.float32(1.0 / scale)
    if transfer == "srgb":
        return srgb_to_linear(x)
    return x


def decode_work(image: np.ndarray, meta: Mapping[str, Any] | None, name: str) -> np.ndarray:
    """:func:`decode` into this thread's scratch buffer ``name`` when :func:`encode` will return
    a new array (8/16-bit sRGB: the float work is then free to reuse), else a new array.
    The result may be modified in place and passed to :func:`encode`."""
    return decode(image, meta, out=buffer(name, image.shape) if encode_is_fresh(image, meta) else None)


def encode(linear: np.ndarray, image: np.ndarray, meta: Mapping[str, Any] | None = None) -> np.ndarray:
    """Back to the encoding and scale of ``image`` (float; the caller restores the dtype).

    ``linear`` may be overwritten. uint8 sRGB goes through :func:`domaug.kit.linear_to_srgb8`
    (≤ 0.026 code from exact before rounding; 8-bit codes round-trip exactly) and 16-bit
    sRGB through :func:`domaug.kit.linear_to_srgb16_in_place`: both come back as integer
    codes already.
    """
    scale = full_scale(image.dtype, meta)
    transfer = transfer_of(image, meta)
    if transfer == "srgb":
        if image.dtype == np.uint8 and scale == 255.0:
            index = buffer("encode_index_rgb", linear.shape, np.uint16)  # reused: no page faults (see scratch)
            return linear_to_srgb8(linear, index=index)
        if scale == 65535.0 and image.dtype == np.uint16 and linear.dtype == np.float32 and linear.flags.writeable:
            return linear_to_srgb16_in_place(linear, toe=buffer("encode_toe", linear.shape),
                                             dark=buffer("encode_dark", linear.shape, bool))
        out = np.asarray(linear_to_srgb(linear), dtype=np.float32)
    else:
        out = linear
    if scale != 1.0:
        out = out * np.float32(scale)
    return out


def _cv2_for_planes(image: np.ndarray) -> Any:
    """OpenCV when it can split / merge the planes of ``image`` (H×W×3), else None."""
    cv2 = cv2_module()
    return cv2 if cv2 is not None and 0 < image.size < 2**31 and image.shape[1] < 2**20 else None


def _is_rgb(image: np.ndarray) -> bool:
    return image.ndim == 3 and image.shape[2] == 3


def _decode_planes8(image: np.ndarray) -> np.ndarray:
    """8-bit sRGB → three linear planes (3×H×W scratch): ``cv2.split``, one lookup per plane."""
    out = buffer("planes", (3,) + image.shape[:2])  # reused: no page faults (see scratch)
    cv2 = _cv2_for_planes(image)
    if cv2 is None:
        for c in range(3):
            srgb_codes_to_linear(image[..., c], out=out[c])
        return out
    codes = buffer("codes8", (3,) + image.shape[:2], np.uint8)
    cv2.split(np.ascontiguousarray(image), list(codes))  # into the scratch planes
    for c in range(3):
        srgb_codes_to_linear(codes[c], out=out[c])
    return out


def _split_planes(lin: np.ndarray) -> np.ndarray:
    """Interleaved linear H×W×3 → three planes (3×H×W scratch)."""
    out = buffer("planes", (3,) + lin.shape[:2])
    cv2 = _cv2_for_planes(lin)
    if cv2 is not None:
        cv2.split(lin, list(out))  # into the scratch planes
    else:
        for c in range(3):
            np.copyto(out[c], lin[..., c])
    return out


def decode_planes(image: np.ndarray, meta: Mapping[str, Any] | None = None) -> list[np.ndarray]:
    """Linear float32 radiance of an H×W×3 ``image`` as three C-contiguous H×W planes (R, G, B).

    For 8/16-bit sRGB the planes live in this thread's scratch buffer (:mod:`.scratch`):
    they are valid until the next call and must not be returned (:func:`encode_planes`
    copies). Planar data lets per-pixel fields (transmission, opacity) multiply a channel
    without first being replicated to three channels.
    """
    if is_srgb8(image, meta) and _is_rgb(image):
        return list(_decode_planes8(image))
    if encode_is_fresh(image, meta) and _is_rgb(image):  # 16-bit sRGB: scratch too
        return list(_split_planes(decode(image, meta, out=buffer("planes_interleaved", image.shape))))
    lin = decode(image, meta)
    return list(np.moveaxis(lin, -1, 0).copy())


def _encode_planes8(planes: list[np.ndarray], image: np.ndarray) -> np.ndarray:
    """Three linear planes → 8-bit sRGB H×W×3 (:func:`domaug.kit.linear_to_srgb8` per plane, one merge)."""
    cv2 = _cv2_for_planes(image) if image.size else None
    if cv2 is None:
        return np.stack([linear_to_srgb8(np.ascontiguousarray(p, dtype=np.float32)) for p in planes], axis=-1)
    codes = buffer("codes8", (3,) + image.shape[:2], np.uint8)  # reused: no page faults
    index = buffer("encode_index", image.shape[:2], np.uint16)
    for c, p in enumerate(planes):
        linear_to_srgb8(np.ascontiguousarray(p, dtype=np.float32), out=codes[c], index=index)
    return cv2.merge(list(codes))


def _merge_planes(planes: list[np.ndarray], image: np.ndarray) -> np.ndarray:
    """Planes → interleaved H×W×n in the scratch buffer (``cv2.merge`` for float32 planes)."""
    work = buffer("planes_interleaved", image.shape[:2] + (len(planes),))
    cv2 = cv2_module()
    if (cv2 is not None and work.size and len(planes) <= 4 and image.shape[1] < 2**20
            and all(p.dtype == np.float32 and p.flags.c_contiguous for p in planes)):
        return cv2.merge(list(planes), dst=work)
    np.stack(planes, axis=-1, out=work)
    return work


def encode_planes(planes: list[np.ndarray], image: np.ndarray, meta: Mapping[str, Any] | None = None) -> np.ndarray:
    """Back from three linear planes to ``image``'s encoding (see :func:`encode`); the planes
    may be overwritten. 8-bit sRGB is encoded plane by plane and merged once; 16-bit sRGB is
    merged into a scratch buffer and encoded in place."""
    if is_srgb8(image, meta) and _is_rgb(image):
        return _encode_planes8(planes, image)
    if encode_is_fresh(image, meta):  # encoded into a new array: the interleaved work may be scratch
        return encode(_merge_planes(planes, image), image, meta)
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
