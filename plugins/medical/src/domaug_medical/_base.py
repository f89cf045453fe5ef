"""Shared helpers of the medical transforms: layout, physical spacing, channel refusal."""

from __future__ import annotations

from typing import Any, Mapping

import numpy as np

from domaug.dtypes import to_float
from domaug.errors import UnsupportedInputError
from domaug.targets import Layout, layout_of

#: Spacing assumed (mm per pixel, every axis) when meta carries none.
DEFAULT_SPACING_MM = 1.0


def medical_layout(sample: Mapping[str, Any]) -> Layout:
    """Layout with 3-D arrays read as D×H×W volumes unless meta says otherwise."""
    return layout_of(sample, prefer_volume=True)


def spacing_mm(sample: Mapping[str, Any], lay: Layout | None = None) -> tuple[float, ...]:
    """Spacing per spatial axis in mm from ``meta["spacing"]`` (default 1 mm).

    A 2-entry spacing on a volume is read as in-plane (rows, cols) with 1 mm slices.
    """
    lay = lay or medical_layout(sample)
    meta = sample.get("meta") or {}
    spacing = meta.get("spacing")
    n = lay.spatial_ndim
    if spacing is None:
        return (DEFAULT_SPACING_MM,) * n
    values = [float(s) for s in spacing]
    if len(values) == n:
        return tuple(values)
    if len(values) == 2 and n == 3:
        return (DEFAULT_SPACING_MM, values[0], values[1])
    if len(values) == 3 and n == 2:
        return tuple(values[-2:])
    return (DEFAULT_SPACING_MM,) * n


def fill_invalid(work: np.ndarray, sample: Mapping[str, Any]) -> np.ndarray:
    """``work`` (a float working copy, changed in place) with nodata and non-finite voxels
    set to the mean of the valid ones, so that FFTs, filters and projections never carry
    NaN or a −9999 fill into valid voxels (the base class puts nodata back afterwards).
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


def read_only_float(image: np.ndarray, sample: Mapping[str, Any]) -> np.ndarray:
    """``image`` itself when it is float32/float64 with nothing to fill, else the filled working
    copy of :func:`fill_invalid`. For kernels that only read their input (never modify it)."""
    if image.dtype in (np.float32, np.float64) and sample.get("valid") is None:
        nodata = (sample.get("meta") or {}).get("nodata")
        lo_hi = (np.min(image), np.max(image)) if image.size else (0.0, 0.0)
        if np.isfinite(lo_hi).all() and (nodata is None or np.isnan(nodata) or not (image == nodata).any()):
            return image
    return fill_invalid(to_float(image), sample)


def check_grayscale(transform_name: str, sample: Mapping[str, Any]) -> Layout:
    """Refuse multi-channel inputs (RGB ultrasound, secondary captures)."""
    lay = medical_layout(sample)
    if lay.has_channels:
        raise UnsupportedInputError(
            f"{transform_name} works on a grayscale slice (H×W) or volume (D×H×W), "
            f"got {lay.n_channels} channels; convert the image to grayscale first"
        )
    return lay


def is_magnitude(image: np.ndarray) -> bool:
    """True when the image looks like a magnitude image (no negative values, e.g. MR)."""
    if image.size == 0:
        return True
    lowest = np.min(image)
    if image.dtype.kind == "f" and not np.isfinite(lowest):  # NaN or ±inf: judge the finite values
        finite = image[np.isfinite(image)]
        return bool(finite.size == 0 or np.min(finite) >= 0)
    return bool(lowest >= 0)


def mean_abs(sample: Mapping[str, Any]) -> float:
    """Mean absolute intensity of the valid voxels of ``sample["image"]`` (float64 sum).

    Float images with every voxel valid take one OpenCV L1-norm pass; anything else
    (integers, nodata, NaN) the working copy of :func:`fill_invalid`.
    """
    image = sample["image"]
    meta = sample.get("meta") or {}
    if (image.dtype in (np.float32, np.float64) and image.size and image.size < 2**31 and image.flags.c_contiguous
            and sample.get("valid") is None and meta.get("nodata") is None):
        from domaug.ops.opencv import cv2_module

        cv2 = cv2_module()
        if cv2 is not None:
            total = float(cv2.norm(image.reshape(1, -1), cv2.NORM_L1))
            if np.isfinite(total):
                return total / image.size
    work = fill_invalid(image.astype(np.float64 if image.dtype == np.float64 else np.float32), sample)
    return float(np.mean(np.abs(work), dtype=np.float64))


class MedicalMixin:
    """Medical transforms read 3-D arrays as volumes and refuse multi-channel images."""

    prefer_volume = True

    def check_input(self, sample: Mapping[str, Any]) -> None:  # type: ignore[override]
        super().check_input(sample)  # type: ignore[misc]
        check_grayscale(self.name_for_errors(), sample)  # type: ignore[attr-defined]


#: Names of the phase-encoding axis: rows (``vertical``), columns (``horizontal``), slices (``depth``).
PHASE_AXES = ("auto", "vertical", "horizontal", "depth")


def check_phase_axis(value: Any, name: str = "phase_axis") -> str:
    from domaug.params import check_choice

    return check_choice(value, name, PHASE_AXES)


def draw_phase_axis(rng: np.random.Generator, choice: str, sample: Mapping[str, Any]) -> str:
    """Resolve ``auto``: DICOM InPlanePhaseEncodingDirection from meta when known, else random in-plane."""
    if choice != "auto":
        return choice
    meta = sample.get("meta") or {}
    pe = str(meta.get("phase_encoding_direction", "")).upper()
    if pe == "COL":
        return "vertical"
    if pe == "ROW":
        return "horizontal"
    return ("vertical", "horizontal")[int(rng.integers(2))]


def axis_index(name: str, spatial_ndim: int) -> int:
    """Array axis of a named axis; ``depth`` needs a volume."""
    if name == "depth":
        if spatial_ndim != 3:
            raise UnsupportedInputError("the 'depth' axis needs a 3-D volume")
        return 0
    return spatial_ndim - 2 if name == "vertical" else spatial_ndim - 1


def looks_like_ct(sample: Mapping[str, Any]) -> bool:
    """CT by ``meta["modality"]``, else signed data reaching air-like values (< −200)."""
    meta = sample.get("meta") or {}
    modality = str(meta.get("modality") or "").upper()
    if modality:
        return modality == "CT"
    image = sample["image"]
    if image.dtype.kind not in "if":
        return False
    return bool(np.min(fill_invalid(image.astype(np.float64), sample)) < -200)  # nodata (-9999) is no air
