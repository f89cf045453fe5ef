"""Writing a sample back as a derived DICOM series, in named steps.

:func:`plan_series` decides once what the files share (which source header each output
file keeps, the new series and frame-of-reference UIDs, the new slice geometry and
thickness, the derivation text); :func:`write_file` then writes each file: thickness,
pixels (re-encoded as Explicit VR Little Endian), a new identity, the derivation, the
geometry. Output bytes depend only on the sample, the sources and the provenance.

Imported lazily (pydicom is only needed when DICOM files are read or written).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import FormatError, SpatialTransform, get_transform_class

from . import dicom_geometry as geo
from . import dicom_pixels as px
from .dicom_read import read_dataset, samples_per_pixel

#: values of the source that no longer describe the augmented pixels
_STALE = ("SmallestImagePixelValue", "LargestImagePixelValue", "SmallestPixelValueInSeries",
          "LargestPixelValueInSeries")


def _applied_names(provenance: Mapping[str, Any]) -> list[str]:
    return [str(a.get("name", "?")) for a in provenance.get("applied", []) if isinstance(a, Mapping)]


def geometry_changed(provenance: Mapping[str, Any]) -> bool:
    """True when a spatial transform (or one domaug does not know) ran: pixels may have moved."""
    for name in _applied_names(provenance):
        try:
            cls = get_transform_class(name)
        except Exception:  # noqa: BLE001 - unknown name: assume it may move pixels
            return True
        if issubclass(cls, SpatialTransform):
            return True
    return False


def derivation_text(provenance: Mapping[str, Any]) -> str:
    """"domaug 0.1.0 (pipeline ab12cd34): medical.RicianNoise(sigma=12.3); ..." (≤ 1024 chars)."""
    parts = []
    for a in provenance.get("applied", []):
        params = a.get("params", {}) if isinstance(a, Mapping) else {}
        shown = []
        for k, v in sorted(params.items()):
            if k == "seed" or isinstance(v, (list, dict)):
                continue
            shown.append(f"{k}={v:.4g}" if isinstance(v, float) else f"{k}={v}")
        parts.append(f"{a.get('name', '?')}({', '.join(shown)[:160]})")
    head = f"domaug {provenance.get('domaug_version', '?')}"
    if provenance.get("pipeline_hash"):
        head += f" (pipeline {str(provenance['pipeline_hash'])[:12]})"
    text = head + ": " + ("; ".join(parts) if parts else "no transform applied")
    return text[:1024]


@dataclass
class SeriesPlan:
    """What every file of one written series shares."""

    sources: list[Path]
    #: per output file: its pixels, and the index of the source whose header it keeps
    pieces: list[np.ndarray]
    template: list[int]
    #: per output file: that source's header (no pixels), edited in place into the output
    headers: list[Any]
    #: UID entropy of this item (pipeline, seeds, input, variant)
    entropy: list[str]
    series_uid: str
    frame_uid: str
    #: a spatial transform ran: the frame of reference (and maybe PixelSpacing) changes
    moved: bool
    #: index → patient affine to rewrite slice positions from, or None (geometry kept)
    new_affine: np.ndarray | None
    #: new SliceThickness (mm) of a series written with fewer, thicker slices, or None
    thickness_mm: float | None
    derivation: str
    variant: Any
    spacing: Sequence[float] | None

    @property
    def resliced(self) -> bool:
        """The series has another number of slices than its sources."""
        return len(self.pieces) != len(self.sources)


def split_slices(image: np.ndarray, meta: Mapping[str, Any], sources: Sequence[Path]) -> tuple[list, list[int]]:
    """The pixels of each output file, and per file the source whose header it keeps: one file
    per source slice, or for a thicker series the nearest source slice of each thick one."""
    n_src = len(sources)
    if n_src == 1:
        return [image], [0]
    n_out = image.shape[0]
    template = list(range(n_src))
    if n_out != n_src:
        if n_out > n_src or meta.get("affine") is None:
            raise FormatError(sources[0], f"the pipeline changed the number of slices from {n_src} "
                                          f"to {n_out}; only fewer slices with a known affine can be written")
        scale = n_src / n_out
        template = [min(n_src - 1, int(round((k + 0.5) * scale - 0.5))) for k in range(n_out)]
    return [image[k] for k in range(n_out)], template


def series_uids(header: Any, provenance: Mapping[str, Any]) -> tuple[str, str]:
    """(SeriesInstanceUID, FrameOfReferenceUID) of the output: one series per source series and
    variant, even when its files are separate items (e.g. several echoes at the same
    positions), so no item-specific entropy here."""
    from pydicom.uid import generate_uid

    run = [str(provenance.get(k, "")) for k in ("pipeline_hash", "root_seed", "variant")]
    series_uid = generate_uid(entropy_srcs=run + ["series", str(getattr(header, "SeriesInstanceUID", ""))])
    frame_uid = generate_uid(entropy_srcs=run + ["frame", str(getattr(header, "FrameOfReferenceUID", ""))])
    return series_uid, frame_uid


def changed_affine(headers: Sequence[Any], meta: Mapping[str, Any], n_out: int) -> np.ndarray | None:
    """The sample's affine when the slice positions must be rewritten from it (a series whose
    geometry or number of slices changed), else None."""
    if len(headers) < 2 or meta.get("affine") is None:
        return None
    ps0 = geo.pixel_spacing(headers[0]) or [1.0, 1.0]
    old = geo.volume_affine(headers[0], headers[-1], len(headers), ps0)
    cand = np.asarray(meta["affine"], dtype=np.float64)
    if cand.shape == (4, 4) and (n_out != len(headers) or not np.allclose(cand, old, atol=1e-6)):
        return cand
    return None


def plan_series(sample: Mapping[str, Any], sources: Sequence[Path], provenance: Mapping[str, Any]) -> SeriesPlan:
    """Everything the files of the written series share (reads the source headers)."""
    image = np.asarray(sample["image"])
    meta = sample.get("meta") or {}
    sources = [Path(s) for s in sources]
    pieces, template = split_slices(image, meta, sources)
    entropy = [str(provenance.get(k, "")) for k in ("pipeline_hash", "root_seed", "seed_key", "input", "variant")]
    moved = geometry_changed(provenance)
    all_headers = [read_dataset(s, stop_before_pixels=True) for s in sources]
    headers = [all_headers[i] if i == t else read_dataset(sources[t], stop_before_pixels=True)
               for i, t in enumerate(template)]
    series_uid, frame_uid = series_uids(headers[0], provenance)
    new_affine = changed_affine(all_headers, meta, len(pieces))
    thickness = None
    if len(pieces) != len(sources) and meta.get("spacing") is not None:
        thickness = float(meta["spacing"][0])
    profile_mm = meta.get("slice_thickness")  # a thicker slice profile on the same grid
    if thickness is None and profile_mm is not None:
        header = getattr(headers[0], "SliceThickness", None)
        if header is None or not np.isclose(float(header), float(profile_mm)):
            headers = [_with_profile(h, float(profile_mm)) for h in headers]
    return SeriesPlan(sources=sources, pieces=pieces, template=template, headers=headers, entropy=entropy,
                      series_uid=series_uid, frame_uid=frame_uid, moved=moved, new_affine=new_affine,
                      thickness_mm=thickness, derivation=derivation_text(provenance),
                      variant=provenance.get("variant", 0), spacing=meta.get("spacing"))


def _ds(value: float) -> Any:
    from pydicom.valuerep import DSfloat

    return DSfloat(value, auto_format=True)


def _with_profile(ds: Any, profile_mm: float) -> Any:
    """``ds`` with SliceThickness (the slice profile's FWHM) set, slice positions kept."""
    ds.SliceThickness = _ds(profile_mm)
    return ds


def set_thickness(ds: Any, thickness_mm: float | None) -> None:
    """SliceThickness (and SpacingBetweenSlices when present) of a thicker series."""
    if thickness_mm is None:
        return
    ds.SliceThickness = _ds(thickness_mm)
    if "SpacingBetweenSlices" in ds:
        ds.SpacingBetweenSlices = _ds(thickness_mm)


def stored_pixels(ds: Any, arr: np.ndarray, source: Path) -> tuple[np.ndarray, str]:
    """Stored values and PhotometricInterpretation: grayscale back through the modality LUT
    (clipped to BitsStored), colour rounded to 8-bit RGB."""
    if samples_per_pixel(ds) == 1:
        stored, _clipped = px.to_stored(arr, ds, px.rescale_of(ds), source)
        return stored, str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2"))
    stored = np.clip(np.rint(arr), 0, 255).astype(np.uint8) if arr.dtype != np.uint8 else arr
    return stored, "RGB"


def replace_pixels(ds: Any, stored: np.ndarray, photometric: str, source: Path) -> None:
    """New PixelData, uncompressed Explicit VR Little Endian; stale extremes removed; a lossy
    source keeps LossyImageCompression = 01."""
    from pydicom.uid import ExplicitVRLittleEndian

    lossy = px.transfer_syntax(ds) in px.LOSSY_TS or str(getattr(ds, "LossyImageCompression", "")) == "01"
    for _ in ds.iterall():  # turn raw (implicit-VR / big-endian) elements into typed ones
        pass
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.set_original_encoding(False, True)
    for name in ("PixelData",) + _STALE:
        if name in ds:
            delattr(ds, name)
    try:
        ds.set_pixel_data(np.ascontiguousarray(stored), photometric, int(ds.BitsStored), generate_instance_uid=False)
    except (ValueError, NotImplementedError) as exc:
        raise FormatError(source, f"cannot store the augmented pixels: {str(exc).splitlines()[0][:200]}") from None
    if lossy:
        ds.LossyImageCompression = "01"


def renew_identity(ds: Any, plan: SeriesPlan, k: int) -> None:
    """New SOPInstanceUID (derived from the run and the source's), series UID, frame of
    reference when pixels moved, InstanceNumber of a resliced series, consistent file meta."""
    from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, generate_uid

    original_class = str(getattr(ds, "SOPClassUID", ""))
    sop = generate_uid(entropy_srcs=plan.entropy + ["sop", str(k), str(getattr(ds, "SOPInstanceUID", ""))])
    if "InstanceNumber" in ds and plan.resliced:
        ds.InstanceNumber = k + 1
    ds.SOPInstanceUID = sop
    ds.file_meta.MediaStorageSOPInstanceUID = sop
    if original_class:
        ds.file_meta.MediaStorageSOPClassUID = original_class
    ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    ds.SeriesInstanceUID = plan.series_uid
    if plan.moved and "FrameOfReferenceUID" in ds:
        ds.FrameOfReferenceUID = plan.frame_uid


def mark_derived(ds: Any, plan: SeriesPlan, source_class: str, source_sop: str) -> None:
    """ImageType DERIVED\\SECONDARY, DerivationDescription, SourceImageSequence → the source
    image, SeriesDescription suffixed with the variant."""
    from pydicom.dataset import Dataset
    from pydicom.sequence import Sequence as DicomSequence

    image_type = list(ds.ImageType) if "ImageType" in ds else []
    ds.ImageType = ["DERIVED", "SECONDARY"] + [str(v) for v in image_type[2:]]
    ds.DerivationDescription = plan.derivation
    ref = Dataset()
    ref.ReferencedSOPClassUID = source_class
    ref.ReferencedSOPInstanceUID = source_sop
    ds.SourceImageSequence = DicomSequence([ref])
    suffix = f" [domaug aug{plan.variant}]"
    desc = str(getattr(ds, "SeriesDescription", "") or "")
    ds.SeriesDescription = (desc[: 64 - len(suffix)] + suffix).strip()[:64]


def update_geometry(ds: Any, plan: SeriesPlan, k: int) -> None:
    """Slice position, orientation and PixelSpacing from the new affine; else, after a
    spatial transform, PixelSpacing from meta when it changed."""
    if plan.new_affine is not None:
        ipp, iop, ps = geo.slice_geometry(plan.new_affine, k)
        ds.ImagePositionPatient = [_ds(v) for v in ipp]
        ds.ImageOrientationPatient = [_ds(round(v, 6)) for v in iop]
        ds.PixelSpacing = [_ds(v) for v in ps]
    elif plan.moved and plan.spacing is not None and "PixelSpacing" in ds:
        ps = [float(v) for v in plan.spacing[-2:]]
        if not np.allclose(ps, [float(v) for v in ds.PixelSpacing]):
            ds.PixelSpacing = [_ds(v) for v in ps]


def write_file(plan: SeriesPlan, k: int, target: Path) -> Path:
    """Write output file ``k`` of the series to ``target``."""
    ds, source = plan.headers[k], plan.sources[plan.template[k]]
    set_thickness(ds, plan.thickness_mm)
    stored, photometric = stored_pixels(ds, plan.pieces[k], source)
    replace_pixels(ds, stored, photometric, source)
    source_class, source_sop = str(getattr(ds, "SOPClassUID", "")), str(getattr(ds, "SOPInstanceUID", ""))
    renew_identity(ds, plan, k)
    mark_derived(ds, plan, source_class, source_sop)
    update_geometry(ds, plan, k)
    ds.save_as(target, enforce_file_format=True)
    return target
