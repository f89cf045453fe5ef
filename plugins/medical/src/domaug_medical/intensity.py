"""Voxel-value helpers of the medical transforms: working copies free of nodata and NaN,
magnitude images, mean intensity, CT detection."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.kit import cv2_module, to_float


def fill_unusable_voxels(work: np.ndarray, sample: Mapping[str, Any]) -> np.ndarray:
    """``work`` (a float working copy, changed in place) with its unusable voxels — nodata
    (``valid`` False, else ``meta["nodata"]``) and NaN/±inf — set to the mean of the usable
    ones over the whole image (0 when there are none), so that FFTs, filters and projections
    never carry NaN or a −9999 fill into valid voxels (the pixel base class puts nodata back
    afterwards).

    Not the core's ``domaug.kit.fill_invalid``: that one fills only ``valid`` False pixels
    (non-finite valid pixels stay), per band, into a copy.
    """
    bad = ~np.isfinite(work)
    valid = sample.get("valid")
    meta = sample.get("meta") or {}
    nodata = meta.get("nodata")
    if valid is not None and valid.shape == work.shape:
        bad |= ~valid
    elif nodata is not None and not np.isnan(nodata):
        bad |= work == nodata
    if bad.any():
        good = work[~bad]
        work[bad] = float(np.mean(good, dtype=np.float64)) if good.size else 0.0
    return work


def filled_float(image: np.ndarray, sample: Mapping[str, Any]) -> np.ndarray:
    """A float working copy of ``image`` (float32, float64 for float64) with its unusable
    voxels filled (:func:`fill_unusable_voxels`)."""
    return fill_unusable_voxels(to_float(image), sample)


def read_only_float(image: np.ndarray, sample: Mapping[str, Any]) -> np.ndarray:
    """``image`` itself when it is float32/float64 with nothing to fill, else :func:`filled_float`.
    For kernels that only read their input (never modify it)."""
    if image.dtype in (np.float32, np.float64) and sample.get("valid") is None:
        nodata = (sample.get("meta") or {}).get("nodata")
        lo_hi = (np.min(image), np.max(image)) if image.size else (0.0, 0.0)
        if np.isfinite(lo_hi).all() and (nodata is None or np.isnan(nodata) or not (image == nodata).any()):
            return image
    return filled_float(image, sample)


def is_magnitude(image: np.ndarray) -> bool:
    """True when the image looks like a magnitude image (no negative values, e.g. MR)."""
    if image.size == 0:
        return True
    lowest = np.min(image)
    if image.dtype.kind == "f" and not np.isfinite(lowest):  # NaN or ±inf: judge the finite values
        finite = image[np.isfinite(image)]
        return bool(finite.size == 0 or np.min(finite) >= 0)
    return bool(lowest >= 0)


def _l1_mean(image: np.ndarray) -> float | None:
    """Mean |I| by one OpenCV L1-norm pass (float, C-contiguous, < 2³¹ values), or None."""
    if not (image.dtype in (np.float32, np.float64) and image.size and image.size < 2**31
            and image.flags.c_contiguous):
        return None
    cv2 = cv2_module()
    if cv2 is None:
        return None
    total = float(cv2.norm(image.reshape(1, -1), cv2.NORM_L1))
    return total / image.size if np.isfinite(total) else None


def mean_abs(sample: Mapping[str, Any]) -> float:
    """Mean absolute intensity of the valid voxels of ``sample["image"]`` (float64 sum).

    Float images with every voxel valid take one OpenCV L1-norm pass; anything else
    (integers, nodata, NaN) the working copy of :func:`fill_unusable_voxels`.
    """
    image = sample["image"]
    meta = sample.get("meta") or {}
    if sample.get("valid") is None and meta.get("nodata") is None:
        fast = _l1_mean(image)
        if fast is not None:
            return fast
    work = fill_unusable_voxels(image.astype(np.float64 if image.dtype == np.float64 else np.float32), sample)
    return float(np.mean(np.abs(work), dtype=np.float64))


def looks_like_ct(sample: Mapping[str, Any]) -> bool:
    """CT by ``meta["modality"]``, else signed data reaching air-like values (< −200)."""
    meta = sample.get("meta") or {}
    modality = str(meta.get("modality") or "").upper()
    if modality:
        return modality == "CT"
    image = sample["image"]
    if image.dtype.kind not in "if":
        return False
    return bool(np.min(fill_unusable_voxels(image.astype(np.float64), sample)) < -200)  # nodata (-9999) is no air
