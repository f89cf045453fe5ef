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
    - Masks, boxes and keypoints are written as sidecars by the core's ``write_sidecars``
      (``<output stem>.<name>.npy`` for masks unless the input's sidecar had another
      extension, ``.boxes.json``, ``.keypoints.json``).

No patient data goes into errors or meta (paths only).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Mapping, Sequence

from domaug.kit import Format, FormatError, write_sidecars

_GROUP_TAGS = ["SeriesInstanceUID", "ImagePositionPatient", "ImageOrientationPatient", "Rows", "Columns",
               "NumberOfFrames", "SOPClassUID"]


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

        from . import dicom_geometry as geo

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
    def read(self, paths: Sequence[Path]) -> dict[str, Any]:
        from .dicom_read import read_sample

        try:
            return read_sample(paths, self.name)
        except FormatError:
            raise
        except Exception as exc:  # noqa: BLE001 - pydicom decodes elements lazily: a corrupt one fails late
            # the message is left out: it may quote element values (patient identifiers)
            raise FormatError(Path(paths[0]), f"corrupt DICOM data element ({type(exc).__name__})") from None

    # -- writing -------------------------------------------------------------------------
    def write(self, sample: Mapping[str, Any], dest: Sequence[Path], *, sources: Sequence[Path],
              provenance: Mapping[str, Any]) -> list[Path]:
        """One DICOM file per output slice (see the module docstring), then the sidecars."""
        from .dicom_write import plan_series, write_file

        plan = plan_series(sample, sources, provenance)
        dest = [Path(d) for d in dest]
        written = [write_file(plan, k, target) for k, target in zip(range(len(plan.pieces)), dest)]
        return written + write_sidecars(sample, dest[0], plan.sources[0], mask_ext=".npy")
