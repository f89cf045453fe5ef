"""DICOM pixel values: decoding with clear errors, modality LUT, storable ranges, padding.

Imported lazily (pydicom is only needed when DICOM files are read or written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from domaug.kit import FormatError, check_pixels

#: transfer syntax UID prefix → (codec family, pip package that decodes it)
_CODECS = {
    "1.2.840.10008.1.2.4.50": ("JPEG", "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.51": ("JPEG", "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.57": ("JPEG Lossless", "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.70": ("JPEG Lossless", "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.80": ("JPEG-LS", "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.81": ("JPEG-LS", "pylibjpeg-libjpeg"),
    "1.2.840.10008.1.2.4.90": ("JPEG 2000", "pylibjpeg-openjpeg"),
    "1.2.840.10008.1.2.4.91": ("JPEG 2000", "pylibjpeg-openjpeg"),
    "1.2.840.10008.1.2.4.201": ("HTJ2K", "pylibjpeg-openjpeg"),
    "1.2.840.10008.1.2.4.202": ("HTJ2K", "pylibjpeg-openjpeg"),
    "1.2.840.10008.1.2.4.203": ("HTJ2K", "pylibjpeg-openjpeg"),
}
_MODULE_OF = {"pylibjpeg-libjpeg": "libjpeg", "pylibjpeg-openjpeg": "openjpeg"}
#: lossy transfer syntaxes (the output must keep LossyImageCompression = 01)
LOSSY_TS = {"1.2.840.10008.1.2.4.50", "1.2.840.10008.1.2.4.51", "1.2.840.10008.1.2.4.81",
            "1.2.840.10008.1.2.4.91", "1.2.840.10008.1.2.4.203"}


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _has_module(name: str) -> bool:
    import importlib.util

    return importlib.util.find_spec(name) is not None


def transfer_syntax(ds) -> str:
    meta = getattr(ds, "file_meta", None)
    return str(getattr(meta, "TransferSyntaxUID", "") or "")


def decode(ds, path: Path) -> np.ndarray:
    """Stored pixel values (no rescale); colour data comes back as RGB."""
    ts = transfer_syntax(ds)
    try:
        arr = ds.pixel_array
        return arr if arr.dtype.isnative else arr.astype(arr.dtype.newbyteorder("="))
    except Exception as exc:  # noqa: BLE001 - any decoder failure becomes one clear line
        if ts in _CODECS:
            family, package = _CODECS[ts]
            if not (_has_module("pylibjpeg") and _has_module(_MODULE_OF[package])):
                raise FormatError(path, f"compressed ({family}) pixel data needs {package}; "
                                        "install domaug-medical[codecs]") from None
            raise FormatError(path, f"cannot decode the {family} pixel data: {_first_line(exc)}") from None
        raise FormatError(path, f"pixel data is truncated or corrupt: {_first_line(exc)}") from None


def stored_range(ds) -> tuple[int, int]:
    """The range BitsStored allows, signed or not by PixelRepresentation."""
    bits = int(getattr(ds, "BitsStored", None) or getattr(ds, "BitsAllocated", 16))
    if int(getattr(ds, "PixelRepresentation", 0) or 0) == 1:
        return -(2 ** (bits - 1)), 2 ** (bits - 1) - 1
    return 0, 2**bits - 1


def stored_dtype(ds) -> np.dtype:
    bits = int(getattr(ds, "BitsAllocated", 16))
    signed = int(getattr(ds, "PixelRepresentation", 0) or 0) == 1
    if bits == 8:
        return np.dtype(np.int8 if signed else np.uint8)
    if bits == 16:
        return np.dtype(np.int16 if signed else np.uint16)
    raise ValueError(f"{bits}-bit pixels")


def rescale_of(ds) -> tuple[float, float]:
    """(slope, intercept) of the modality LUT: top level, else Enhanced shared functional
    groups, else per-frame groups (which must agree); (1, 0) when none is given."""
    slope, intercept = getattr(ds, "RescaleSlope", None), getattr(ds, "RescaleIntercept", None)
    if slope is None and intercept is None:
        slope, intercept = _shared_rescale(ds)
    if slope is None and intercept is None:
        slope, intercept = _per_frame_rescale(ds)
    return _number(slope, 1.0), _number(intercept, 0.0)


def _number(value: Any, default: float) -> float:
    return float(value if value not in (None, "") else default)


def _shared_rescale(ds) -> tuple[Any, Any]:
    """(RescaleSlope, RescaleIntercept) of the shared functional groups, or (None, None)."""
    if "SharedFunctionalGroupsSequence" not in ds:
        return None, None
    shared = ds.SharedFunctionalGroupsSequence[0]
    if "PixelValueTransformationSequence" not in shared:
        return None, None
    pvt = shared.PixelValueTransformationSequence[0]
    return getattr(pvt, "RescaleSlope", None), getattr(pvt, "RescaleIntercept", None)


def _per_frame_rescale(ds) -> tuple[Any, Any]:
    """The one (slope, intercept) of the per-frame functional groups, or (None, None);
    ``ValueError`` when frames differ."""
    if "PerFrameFunctionalGroupsSequence" not in ds:
        return None, None
    pairs = set()
    for frame in ds.PerFrameFunctionalGroupsSequence:
        if "PixelValueTransformationSequence" in frame:
            pvt = frame.PixelValueTransformationSequence[0]
            pairs.add((float(getattr(pvt, "RescaleSlope", 1) or 1), float(getattr(pvt, "RescaleIntercept", 0) or 0)))
    if len(pairs) > 1:
        raise ValueError("per-frame rescale slopes/intercepts differ between frames")
    return pairs.pop() if pairs else (None, None)


def to_image(stored: np.ndarray, ds, path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Stored values → image values (HU for CT) and the meta needed to go back."""
    slope, intercept = rescale_of(ds)
    lo, hi = stored_range(ds)
    meta: dict[str, Any] = {"rescale": [slope, intercept]}
    if slope == 1.0 and intercept == 0.0:
        image = stored
        if stored.dtype.kind == "u":
            meta["bit_depth"] = int(getattr(ds, "BitsStored", stored.dtype.itemsize * 8))
        meta["valid_range"] = [float(lo), float(hi)]
        return image, meta
    values = stored.astype(np.float64) * slope + intercept
    a, b = sorted((lo * slope + intercept, hi * slope + intercept))
    integral = float(slope).is_integer() and float(intercept).is_integer()
    if integral and values.size and values.min() >= -32768 and values.max() <= 32767:
        image = values.astype(np.int16)
        a, b = max(a, -32768.0), min(b, 32767.0)
    else:
        image = values.astype(np.float32)
        a, b = float(np.float32(a)), float(np.float32(b))  # the float32 images' own extremes
    meta["valid_range"] = [float(a), float(b)]
    return image, meta


def to_stored(image: np.ndarray, ds, rescale, path: Path) -> tuple[np.ndarray, int]:
    """Image values → stored values of the source's type, clipped to BitsStored; also the clip count."""
    slope, intercept = (float(v) for v in rescale)
    lo, hi = stored_range(ds)
    try:
        dtype = stored_dtype(ds)
    except ValueError as exc:
        raise FormatError(path, f"cannot write {exc} (only 8- and 16-bit images are supported)") from None
    values = np.asarray(image, dtype=np.float64)
    if slope != 1.0 or intercept != 0.0:
        values = (values - intercept) / slope
    values = np.rint(values)
    clipped = int(np.count_nonzero((values < lo) | (values > hi)))
    np.clip(values, lo, hi, out=values)
    return values.astype(dtype), clipped


def padding_valid(stored: np.ndarray, ds) -> np.ndarray | None:
    """``valid`` = False on PixelPaddingValue (… PixelPaddingRangeLimit) pixels, or None if none."""
    pad = getattr(ds, "PixelPaddingValue", None)
    if pad is None or stored.ndim > 3 or (stored.ndim == 3 and int(getattr(ds, "SamplesPerPixel", 1)) > 1):
        return None
    pad = int(pad)
    limit = getattr(ds, "PixelPaddingRangeLimit", None)
    if limit is not None:
        a, b = sorted((pad, int(limit)))
        bad = (stored >= a) & (stored <= b)
    else:
        bad = stored == pad
    return ~bad if bad.any() else None


def check_image(ds, path: Path) -> None:
    """Refuse datasets that are not 8/16-bit images we can read and write back (one-line reasons)."""
    if "PixelData" not in ds:
        if "FloatPixelData" in ds or "DoubleFloatPixelData" in ds:
            raise FormatError(path, "float pixel data (e.g. a parametric map) is not supported")
        raise FormatError(path, "no pixel data (not an image)")
    bits = int(getattr(ds, "BitsAllocated", 0) or 0)
    if bits == 1:
        raise FormatError(path, "1-bit pixel data (a binary segmentation) is not an image to augment")
    if bits == 0:
        raise FormatError(path, "BitsAllocated is missing (incomplete Image Pixel module)")
    if bits not in (8, 16):
        raise FormatError(path, f"{bits}-bit pixel data (e.g. RT Dose) is not supported; only 8 and 16 bits")
    pi = str(getattr(ds, "PhotometricInterpretation", "")).upper()
    if pi == "PALETTE COLOR":
        raise FormatError(path, "PALETTE COLOR pixels are lookup-table indices; intensity augmentation "
                                "would be meaningless (convert to RGB first)")
    if "ModalityLUTSequence" in ds:
        raise FormatError(path, "a Modality LUT Sequence is not supported (only RescaleSlope/Intercept)")
    try:
        rescale_of(ds)
    except ValueError as exc:
        raise FormatError(path, f"{exc}; not supported") from None

    frames = int(getattr(ds, "NumberOfFrames", 1) or 1)
    check_pixels(path, (int(ds.Rows) * int(ds.Columns) * frames,), spatial=1)
