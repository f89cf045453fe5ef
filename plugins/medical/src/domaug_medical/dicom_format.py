"""DICOM reader/writer (pydicom 3): single-frame, multi-frame and series, written back as a derived series.

Reading
    - One file → H×W (or H×W×3 colour) image; a multi-frame file → frames×H×W volume.
    - Files of one SeriesInstanceUID in one folder with consistent geometry → one D×H×W
      volume sorted by ImagePositionPatient · slice normal (not InstanceNumber), with
      ``meta["spacing"] = [slice step, row, col]`` (mm) and ``meta["affine"]``
      (index → patient LPS mm).
    - Modality LUT applied (RescaleSlope/Intercept → HU for CT; int16 when the values are
      integral and fit, else float32); ``meta["valid_range"]`` = what BitsStored and
      PixelRepresentation can store, so transforms clip to storable values.
    - MONOCHROME1 is kept as stored (higher values display darker, as
      ``meta["photometric_interpretation"]`` says); colour (RGB, YBR decoded to RGB)
      becomes H×W×3 uint8. PALETTE COLOR, 1-bit (SEG), 32-bit (RT Dose)
      and float pixel data are refused with a one-line reason.
    - PixelPaddingValue (…RangeLimit) pixels → ``valid`` False (kept bit-exact).
    - Compressed transfer syntaxes decode with pylibjpeg (``domaug-medical[codecs]``),
      RLE and Deflate natively; a missing codec is a one-line error naming the extra.
    - A label map may sit beside the (first) file as ``<stem>.mask.npy`` (or ``.png``),
      same shape as the image: D×H×W for a series, in the sorted slice order.

Writing (one new series per variant; output bytes depend only on the sample, the
sources and the provenance, so UIDs are derived from the run's seed, not random)
    - Uncompressed Explicit VR Little Endian, consistent file meta, pydicom's
      implementation UID; stored values = rint((value − intercept)/slope) clipped to
      BitsStored; the source's tags are kept (private tags included).
    - New SOPInstanceUID per image, one new SeriesInstanceUID per source series and
      variant (derived from the pipeline hash, root seed and variant);
      Study/patient tags kept; FrameOfReferenceUID renewed when a spatial transform ran.
    - ImageType DERIVED\\SECONDARY, DerivationDescription naming the transforms,
      SourceImageSequence → the source image, SeriesDescription suffixed, stale
      Smallest/LargestImagePixelValue removed, LossyImageCompression 01 kept for lossy
      sources, WindowCenter/Width kept; slice positions rewritten from the affine when
      the geometry changed; a series made thicker (``SliceThickness(resample_back=False)``)
      is written with fewer slices (SliceThickness, positions, InstanceNumber updated).
    - No InstanceCreationDate/Time: outputs must be byte-reproducible.
    - Masks are written as ``<output stem>.<name>.npy`` sidecars.

No patient data goes into errors or meta (paths only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.errors import FormatError
from domaug.formats.base import Format, sidecar_path

from . import dicom_geometry as geo

_GROUP_TAGS = ["SeriesInstanceUID", "ImagePositionPatient", "ImageOrientationPatient", "Rows", "Columns",
               "NumberOfFrames", "SOPClassUID"]
_STALE = ("SmallestImagePixelValue", "LargestImagePixelValue", "SmallestPixelValueInSeries",
          "LargestPixelValueInSeries")


def _read(path: Path, **kw):
    import pydicom
    from pydicom.errors import InvalidDicomError

    from domaug.formats.common import check_not_empty

    check_not_empty(path)
    try:
        return pydicom.dcmread(path, **kw)
    except InvalidDicomError:
        raise FormatError(path, "not a DICOM Part-10 file (no 'DICM' file meta header)") from None
    except Exception as exc:  # noqa: BLE001 - any parser failure is a broken file
        raise FormatError(path, f"cannot parse DICOM: {type(exc).__name__}") from None


def _window(ds) -> dict[str, Any]:
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


def _applied_names(provenance: Mapping[str, Any]) -> list[str]:
    return [str(a.get("name", "?")) for a in provenance.get("applied", []) if isinstance(a, Mapping)]


def _geometry_changed(provenance: Mapping[str, Any]) -> bool:
    import domaug
    from domaug.transform import SpatialTransform

    for name in _applied_names(provenance):
        try:
            cls = domaug.registry.get_transform_class(name)
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


class DICOMFormat(Format):
    """DICOM images and series (pydicom 3), written back as a new derived series."""

    name = "dicom"
    extensions = (".dcm", ".dicom")
    priority = 5

    def sniff(self, path: Path, head: bytes) -> bool:
        return len(head) >= 132 and head[128:132] == b"DICM"

    # -- grouping ------------------------------------------------------------------------
    def group(self, paths: Sequence[Path]) -> list[list[Path]]:
        import pydicom

        series: dict[tuple[str, str], list[tuple[Path, Any]]] = {}
        items: list[list[Path]] = []
        for p in paths:
            try:
                h = pydicom.dcmread(p, stop_before_pixels=True, specific_tags=_GROUP_TAGS)
                uid = str(getattr(h, "SeriesInstanceUID", "") or "")
            except Exception:  # noqa: BLE001 - unreadable: its own item, read() reports why
                items.append([p])
                continue
            if not uid:
                items.append([p])
                continue
            series.setdefault((str(Path(p).parent), uid), []).append((Path(p), h))
        for members in series.values():
            order = geo.sort_by_position([h for _, h in members])
            if order is None:
                items.extend([[p] for p, _ in members])
            else:
                items.append([members[i][0] for i in order])
        return items

    def output_names(self, paths: Sequence[Path], variant: int) -> list[str]:
        names = []
        for p in paths:
            p = Path(p)
            if p.suffix.lower() in self.extensions:
                names.append(f"{p.stem}.aug{variant}{p.suffix}")
            else:  # DICOM files often have no extension at all
                names.append(f"{p.name}.aug{variant}.dcm")
        return names

    # -- reading -------------------------------------------------------------------------
    def _read_one(self, path: Path):
        from . import dicom_pixels as px

        ds = _read(path)
        px.check_image(ds, path)
        stored = px.decode(ds, path)
        spp = int(getattr(ds, "SamplesPerPixel", 1) or 1)
        if spp == 1:
            image, meta = px.to_image(stored, ds, path)
        else:
            if stored.dtype != np.uint8:
                raise FormatError(path, f"{stored.dtype} colour pixels are not supported (only 8-bit RGB)")
            image, meta = stored, {"bit_depth": 8}
        return ds, stored, image, meta

    def read(self, paths: Sequence[Path]) -> dict[str, Any]:
        try:
            return self._read_sample(paths)
        except FormatError:
            raise
        except Exception as exc:  # noqa: BLE001 - pydicom decodes elements lazily: a corrupt one fails late
            # the message is left out: it may quote element values (patient identifiers)
            raise FormatError(Path(paths[0]), f"corrupt DICOM data element ({type(exc).__name__})") from None

    def _read_sample(self, paths: Sequence[Path]) -> dict[str, Any]:
        from domaug.formats.sidecar import read_sidecars

        from . import dicom_pixels as px

        paths = [Path(p) for p in paths]
        parts = [self._read_one(p) for p in paths]
        ds0, stored0, image0, meta0 = parts[0]
        frames = int(getattr(ds0, "NumberOfFrames", 1) or 1)
        spp = int(getattr(ds0, "SamplesPerPixel", 1) or 1)
        meta: dict[str, Any] = {"format": self.name, "modality": str(getattr(ds0, "Modality", "") or "OT")}
        meta.update({k: v for k, v in meta0.items() if k != "rescale"})
        meta["photometric_interpretation"] = "RGB" if spp > 1 else str(getattr(ds0, "PhotometricInterpretation", "MONOCHROME2"))
        meta.update(_window(ds0))
        pe = str(getattr(ds0, "InPlanePhaseEncodingDirection", "") or "").upper()
        if pe in ("ROW", "COL"):
            meta["phase_encoding_direction"] = pe
        if spp > 1:
            meta["band_names"] = ["red", "green", "blue"]
        ps = geo.pixel_spacing(ds0)
        valid = None
        if len(parts) > 1:
            images = [im for _, _, im, _ in parts]
            dtype = np.result_type(*[im.dtype for im in images])
            image = np.stack([im.astype(dtype, copy=False) for im in images])
            if any(m.get("valid_range") != meta0.get("valid_range") for _, _, _, m in parts):
                lo = max(m["valid_range"][0] for _, _, _, m in parts)
                hi = min(m["valid_range"][1] for _, _, _, m in parts)
                meta["valid_range"] = [lo, hi]
            ps = ps or [1.0, 1.0]
            affine = geo.volume_affine(parts[0][0], parts[-1][0], len(parts), ps)
            step = float(np.linalg.norm(affine[:3, 0]))
            meta.update(spatial_ndim=3, spacing=[step] + ps, affine=affine.tolist())
            pads = [px.padding_valid(s, d) for d, s, _, _ in parts]
            if any(v is not None for v in pads):
                valid = np.stack([v if v is not None else np.ones(s.shape, bool)
                                  for v, (_, s, _, _) in zip(pads, parts)])
        else:
            image = image0
            if frames > 1:
                thick = getattr(ds0, "SpacingBetweenSlices", None) or getattr(ds0, "SliceThickness", None)
                meta["spatial_ndim"] = 3
                if ps:
                    meta["spacing"] = [float(thick) if thick else 1.0] + ps
            elif ps:
                meta["spacing"] = ps
            if spp == 1:
                valid = px.padding_valid(stored0, ds0)
        sample: dict[str, Any] = {"image": image, "meta": meta}
        if valid is not None:
            sample["valid"] = valid
        spatial = image.shape[:3] if meta.get("spatial_ndim") == 3 else image.shape[:2]
        sample.update(read_sidecars(paths[0], spatial))
        return sample

    # -- writing -------------------------------------------------------------------------
    def write(self, sample: Mapping[str, Any], dest: Sequence[Path], *, sources: Sequence[Path],
              provenance: Mapping[str, Any]) -> list[Path]:
        from pydicom.dataset import Dataset
        from pydicom.sequence import Sequence as DicomSequence
        from pydicom.uid import PYDICOM_IMPLEMENTATION_UID, ExplicitVRLittleEndian, generate_uid
        from pydicom.valuerep import DSfloat

        from . import dicom_pixels as px

        image = np.asarray(sample["image"])
        meta = sample.get("meta") or {}
        sources = [Path(s) for s in sources]
        dest = [Path(d) for d in dest]
        template = list(range(len(sources)))
        if len(sources) > 1:
            n_out = image.shape[0]
            if n_out != len(sources):
                if n_out > len(sources) or meta.get("affine") is None:
                    raise FormatError(sources[0], f"the pipeline changed the number of slices from {len(sources)} "
                                                  f"to {n_out}; only fewer slices with a known affine can be written")
                # thicker slices: each output slice takes the tags of the nearest source slice
                scale = len(sources) / n_out
                template = [min(len(sources) - 1, int(round((k + 0.5) * scale - 0.5))) for k in range(n_out)]
            pieces = [image[k] for k in range(n_out)]
        else:
            pieces = [image]
        entropy = [str(provenance.get(k, "")) for k in ("pipeline_hash", "root_seed", "seed_key", "input", "variant")]
        moved = _geometry_changed(provenance)
        all_headers = [_read(s, stop_before_pixels=True) for s in sources]
        headers = [all_headers[i] if i == t else _read(sources[t], stop_before_pixels=True)
                   for i, t in enumerate(template)]
        # one output series per source series and variant, even when its files are separate
        # items (e.g. several echoes at the same positions): no item-specific entropy here
        run = [str(provenance.get(k, "")) for k in ("pipeline_hash", "root_seed", "variant")]
        series_uid = generate_uid(entropy_srcs=run + ["series", str(getattr(headers[0], "SeriesInstanceUID", ""))])
        frame_uid = generate_uid(entropy_srcs=run + ["frame", str(getattr(headers[0], "FrameOfReferenceUID", ""))])
        new_affine = None
        if len(sources) > 1 and meta.get("affine") is not None:
            ps0 = geo.pixel_spacing(all_headers[0]) or [1.0, 1.0]
            old = geo.volume_affine(all_headers[0], all_headers[-1], len(all_headers), ps0)
            cand = np.asarray(meta["affine"], dtype=np.float64)
            if cand.shape == (4, 4) and (len(pieces) != len(sources) or not np.allclose(cand, old, atol=1e-6)):
                new_affine = cand
        derivation = derivation_text(provenance)
        written: list[Path] = []
        thick = None
        if len(pieces) != len(sources) and meta.get("spacing") is not None:
            thick = float(meta["spacing"][0])
        for k, (ds, arr, target) in enumerate(zip(headers, pieces, dest)):
            source = sources[template[k]]
            if thick is not None:
                ds.SliceThickness = DSfloat(thick, auto_format=True)
                if "SpacingBetweenSlices" in ds:
                    ds.SpacingBetweenSlices = DSfloat(thick, auto_format=True)
            spp = int(getattr(ds, "SamplesPerPixel", 1) or 1)
            if spp == 1:
                stored, _clipped = px.to_stored(arr, ds, px.rescale_of(ds), source)
                photometric = str(getattr(ds, "PhotometricInterpretation", "MONOCHROME2"))
            else:
                stored = np.clip(np.rint(arr), 0, 255).astype(np.uint8) if arr.dtype != np.uint8 else arr
                photometric = "RGB"
            lossy = px.transfer_syntax(ds) in px.LOSSY_TS or str(getattr(ds, "LossyImageCompression", "")) == "01"
            for _ in ds.iterall():  # turn raw (implicit-VR / big-endian) elements into typed ones
                pass
            ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
            ds.set_original_encoding(False, True)
            for name in ("PixelData",) + _STALE:
                if name in ds:
                    delattr(ds, name)
            try:
                ds.set_pixel_data(np.ascontiguousarray(stored), photometric, int(ds.BitsStored),
                                  generate_instance_uid=False)
            except (ValueError, NotImplementedError) as exc:
                raise FormatError(source, f"cannot store the augmented pixels: {str(exc).splitlines()[0][:200]}") from None
            if lossy:
                ds.LossyImageCompression = "01"
            original_class = str(getattr(ds, "SOPClassUID", ""))
            original_sop = str(getattr(ds, "SOPInstanceUID", ""))
            sop = generate_uid(entropy_srcs=entropy + ["sop", str(k), original_sop])
            if "InstanceNumber" in ds and len(pieces) != len(sources):
                ds.InstanceNumber = k + 1
            ds.SOPInstanceUID = sop
            ds.file_meta.MediaStorageSOPInstanceUID = sop
            if original_class:
                ds.file_meta.MediaStorageSOPClassUID = original_class
            ds.file_meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
            ds.SeriesInstanceUID = series_uid
            if moved and "FrameOfReferenceUID" in ds:
                ds.FrameOfReferenceUID = frame_uid
            image_type = list(ds.ImageType) if "ImageType" in ds else []
            ds.ImageType = ["DERIVED", "SECONDARY"] + [str(v) for v in image_type[2:]]
            ds.DerivationDescription = derivation
            ref = Dataset()
            ref.ReferencedSOPClassUID = original_class
            ref.ReferencedSOPInstanceUID = original_sop
            ds.SourceImageSequence = DicomSequence([ref])
            suffix = f" [domaug aug{provenance.get('variant', 0)}]"
            desc = str(getattr(ds, "SeriesDescription", "") or "")
            ds.SeriesDescription = (desc[: 64 - len(suffix)] + suffix).strip()[:64]
            if new_affine is not None:
                ipp, iop, ps = geo.slice_geometry(new_affine, k)
                ds.ImagePositionPatient = [DSfloat(v, auto_format=True) for v in ipp]
                ds.ImageOrientationPatient = [DSfloat(round(v, 6), auto_format=True) for v in iop]
                ds.PixelSpacing = [DSfloat(v, auto_format=True) for v in ps]
            elif moved and meta.get("spacing") is not None and "PixelSpacing" in ds:
                ps = [float(v) for v in meta["spacing"][-2:]]
                if not np.allclose(ps, [float(v) for v in ds.PixelSpacing]):
                    ds.PixelSpacing = [DSfloat(v, auto_format=True) for v in ps]
            ds.save_as(target, enforce_file_format=True)
            written.append(target)
        written.extend(self._write_masks(sample, dest[0]))
        return written

    @staticmethod
    def _write_masks(sample: Mapping[str, Any], first: Path) -> list[Path]:
        from domaug.targets import kind_of

        out = []
        for name in sorted(sample):
            if name in ("image", "meta", "applied"):
                continue
            try:
                kind = kind_of(name)
            except Exception:  # noqa: BLE001
                continue
            if kind == "mask":
                target = sidecar_path(first, f".{name}.npy")
                with open(target, "wb") as f:
                    np.save(f, np.asarray(sample[name]), allow_pickle=False)
                out.append(target)
        return out
