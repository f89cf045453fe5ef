"""Masked copies of H×W[×C] pixels (OpenCV fast paths, numpy fallbacks, bit-identical results),
and the finishing of a pixel result that leaves some pixels or bands exactly as they came."""

from __future__ import annotations

from typing import Any, Mapping, Sequence

import numpy as np

from ..dtypes import avoid_nodata, restore_dtype
from .opencv import MAX_CHANNELS, cv2_module, depth_of


def copy_where(dst: np.ndarray, src: np.ndarray, where: np.ndarray) -> np.ndarray:
    """``dst[where] = src[where]`` in place for H×W[×C] arrays of one dtype and an H×W bool mask."""
    cv2 = cv2_module()
    if cv2 is not None and _cv_can_copy(dst, src, where):
        cv2.copyTo(src, where.view(np.uint8), dst)
        return dst
    np.copyto(dst, src, where=where[..., None] if dst.ndim == where.ndim + 1 else where)
    return dst


def masked_copy(image: np.ndarray, keep: np.ndarray) -> np.ndarray:
    """A copy of an H×W[×C] image with the pixels where ``keep`` is False set to 0 (same dtype)."""
    cv2 = cv2_module()
    if cv2 is not None and _cv_image(image) and keep.dtype == bool and keep.shape == image.shape[:2]:
        # a new destination is zero-filled before the masked copy
        out = cv2.copyTo(np.ascontiguousarray(image), np.ascontiguousarray(keep).view(np.uint8))
        return out.reshape(image.shape)
    out = image.copy()
    out[~keep] = 0
    return out


def any_valid_hit(result: np.ndarray, value: Any, valid: np.ndarray) -> bool:
    """Whether any element of H×W×C ``result`` equal to ``value`` lies in a pixel where H×W ``valid`` is True."""
    hit = np.equal(result, value)
    cv2 = cv2_module()
    if (cv2 is not None and hit.ndim == 3 and hit.shape[-1] <= MAX_CHANNELS and hit.size
            and valid.dtype == bool and valid.shape == hit.shape[:2] and max(hit.shape[:2]) < 2**31):
        # the masked copy zero-fills the pixels outside ``valid``
        return bool(cv2.copyTo(hit.view(np.uint8), np.ascontiguousarray(valid).view(np.uint8)).any())
    return bool((hit & (valid[..., None] if hit.ndim == valid.ndim + 1 else valid)).any())


def finish_keeping(result: np.ndarray, sample: Mapping[str, Any], valid: np.ndarray | None,
                   untouched: np.ndarray | None, untouched_bands: Sequence[int] = ()) -> np.ndarray:
    """A float pixel result brought home (input dtype, nodata avoided) with the ``untouched``
    pixels (H×W bool), the nodata pixels and the ``untouched_bands`` (e.g. alpha) put back
    bit-exact."""
    image = sample["image"]
    meta = sample.get("meta") or {}
    out = restore_dtype(result, image.dtype, meta)
    if out is image or not out.flags.writeable or not out.flags.c_contiguous:
        out = np.array(out, order="C")
    keep = untouched if valid is None else (~valid if untouched is None else (untouched | ~valid))
    if keep is not None:
        copy_where(out, image, keep)
    for band in untouched_bands:
        out[..., band] = image[..., band]
    return _off_nodata(out, valid, meta)


def _off_nodata(out: np.ndarray, valid: np.ndarray | None, meta: Mapping[str, Any]) -> np.ndarray:
    """:func:`avoid_nodata`, skipped when OpenCV finds no valid pixel on the nodata value."""
    nodata = meta.get("nodata")
    if nodata is None:
        return out
    quick = (valid is not None and not np.isnan(nodata) and out.ndim == valid.ndim + 1
             and (out.dtype.kind == "f" or np.iinfo(out.dtype).min <= nodata <= np.iinfo(out.dtype).max))
    if quick and not any_valid_hit(out, out.dtype.type(nodata), valid):
        return out  # no valid pixel landed on nodata: skip the full-frame mask work
    return avoid_nodata(out, valid, nodata, meta)


def _cv_can_copy(dst: np.ndarray, src: np.ndarray, where: np.ndarray) -> bool:
    """Whether ``cv2.copyTo`` takes these arrays as they are (same layout, C-contiguous, a byte mask)."""
    return (dst.shape == src.shape and dst.dtype == src.dtype and _cv_image(dst)
            and dst.flags.c_contiguous and src.flags.c_contiguous and where.flags.c_contiguous
            and where.dtype == bool and where.shape == dst.shape[:2])


def _cv_image(image: np.ndarray) -> bool:
    """A non-empty H×W[×C] array of an OpenCV depth with at most MAX_CHANNELS channels."""
    channels = 1 if image.ndim == 2 else image.shape[-1]
    return (image.ndim in (2, 3) and depth_of(image.dtype) is not None and channels <= MAX_CHANNELS
            and image.size > 0 and max(image.shape[:2]) < 2**31)
