"""Reading DICOM files into a sample, in named steps: each file's pixels and header, the
meta they share, then either one file (slice, multi-frame volume, colour) or a series
stacked into a D×H×W volume with its patient geometry.

Imported lazily (pydicom is only needed when DICOM files are read or written).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, NamedTuple, Sequence

import numpy as np

from domaug.kit import FormatError, check_not_empty, read_sidecars

from . import dicom_geometry as geo
from . import dicom_pixels as px


class DicomFile(NamedTuple):
    """One file as read: its dataset, stored values, image values (HU for CT) and meta."""

    ds: Any
    stored: np.ndarray
    image: np.ndarray
    meta: dict[str, Any]


def read_dataset(path: Path, **kw: Any) -> Any:
    """``pydicom.dcmread`` with one-line errors that never quote element values."""
    import pydicom
    from pydicom.errors import InvalidDicomError

    check_not_empty(path)
    try:
        return pydicom.dcmread(path, **kw)
    except InvalidDicomError:
        raise FormatError(path, "not a DICOM Part-10 file (no 'DICM' file meta header)") from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is a broken file
        raise FormatError(path, f"cannot parse DICOM: {type(exc).__name__}") from None


def samples_per_pixel(ds: Any) -> int:
    return int(getattr(ds, "SamplesPerPixel", 1) or 1)


def read_file(path: Path) -> DicomFile:
    """Decode one file: grayscale through the modality LUT, colour as 8-bit RGB."""
    ds = read_dataset(path)
    px.check_image(ds, path)
    stored = px.decode(ds, path)
    if samples_per_pixel(ds) == 1:
        image, meta = px.to_image(stored, ds, path)
    else:
        if stored.dtype != np.uint8:
            raise FormatError(path, f"{stored.dtype} colour pixels are not supported (only 8-bit RGB)")
        image, meta = stored, {"bit_depth": 8}
    return DicomFile(ds, stored, image, meta)


def window_of(ds: Any) -> dict[str, Any]:
    """The first WindowCenter/WindowWidth as ``window_center``/``window_width`` (when readable)."""
    out: dict[str, Any] = {}
    for name, key in (("WindowCenter", "window_center"), ("WindowWidth", "window_width")):
        value = getattr(ds, name, None)
        if value is None:
            continue
        try:
            out[key] = float(value[0]) if hasattr(value, "__len__") and not isinstance(value, str) else float(value)
        except (TypeError, ValueError, IndexError):
            pass
    return out


def shared_meta(first: DicomFile, format_name: str) -> dict[str, Any]:
    """Meta every read sample gets from its first file: modality, storable range, photometric
    interpretation, display window, phase-encoding direction, band names of colour."""
    ds, colour = first.ds, samples_per_pixel(first.ds) > 1
    meta: dict[str, Any] = {"format": format_name, "modality": str(getattr(ds, "Modality", "") or "OT")}
    meta.update({k: v for k, v in first.meta.items() if k != "rescale"})
    meta["photometric_interpretation"] = "RGB" if colour else str(getattr(ds, "PhotometricInterpretation",
                                                                           "MONOCHROME2"))
    meta.update(window_of(ds))
    try:  # the nominal slice thickness (FWHM of the slice profile), e.g. for SliceThickness
        thick = float(getattr(ds, "SliceThickness", None) or 0)
    except (TypeError, ValueError):
        thick = 0.0
    if thick > 0:
        meta["slice_thickness"] = thick
    pe = str(getattr(ds, "InPlanePhaseEncodingDirection", "") or "").upper()
    if pe in ("ROW", "COL"):
        meta["phase_encoding_direction"] = pe
    if colour:
        meta["band_names"] = ["red", "green", "blue"]
    return meta


def single_file(file: DicomFile, meta: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """A slice, or a multi-frame volume (frames × H × W, slice step from SpacingBetweenSlices
    or SliceThickness); returns the image and ``valid`` (PixelPaddingValue), updates ``meta``."""
    ds = file.ds
    ps = geo.pixel_spacing(ds)
    if int(getattr(ds, "NumberOfFrames", 1) or 1) > 1:
        thick = getattr(ds, "SpacingBetweenSlices", None) or getattr(ds, "SliceThickness", None)
        meta["spatial_ndim"] = 3
        if ps:
            meta["spacing"] = [float(thick) if thick else 1.0] + ps
    elif ps:
        meta["spacing"] = ps
    valid = px.padding_valid(file.stored, ds) if samples_per_pixel(ds) == 1 else None
    return file.image, valid


def stacked_series(files: Sequence[DicomFile], meta: dict[str, Any]) -> tuple[np.ndarray, np.ndarray | None]:
    """Sorted slices → one D×H×W volume (common dtype), the storable range all slices share,
    the voxel affine and spacing from the first and last positions; returns the image and
    ``valid`` (PixelPaddingValue of any slice), updates ``meta``."""
    dtype = np.result_type(*[f.image.dtype for f in files])
    image = np.stack([f.image.astype(dtype, copy=False) for f in files])
    if any(f.meta.get("valid_range") != files[0].meta.get("valid_range") for f in files):
        meta["valid_range"] = [max(f.meta["valid_range"][0] for f in files),
                               min(f.meta["valid_range"][1] for f in files)]
    ps = geo.pixel_spacing(files[0].ds) or [1.0, 1.0]
    affine = geo.volume_affine(files[0].ds, files[-1].ds, len(files), ps)
    step = float(np.linalg.norm(affine[:3, 0]))
    meta.update(spatial_ndim=3, spacing=[step] + ps, affine=affine.tolist())
    pads = [px.padding_valid(f.stored, f.ds) for f in files]
    valid = None
    if any(v is not None for v in pads):
        valid = np.stack([v if v is not None else np.ones(f.stored.shape, bool) for v, f in zip(pads, files)])
    return image, valid


def read_sample(paths: Sequence[Path], format_name: str) -> dict[str, Any]:
    """The sample of one item: a file or a sorted series, plus the sidecars of its first file."""
    paths = [Path(p) for p in paths]
    files = [read_file(p) for p in paths]
    meta = shared_meta(files[0], format_name)
    image, valid = stacked_series(files, meta) if len(files) > 1 else single_file(files[0], meta)
    sample: dict[str, Any] = {"image": image, "meta": meta}
    if valid is not None:
        sample["valid"] = valid
    spatial = image.shape[:3] if meta.get("spatial_ndim") == 3 else image.shape[:2]
    sample.update(read_sidecars(paths[0], spatial))
    return sample
