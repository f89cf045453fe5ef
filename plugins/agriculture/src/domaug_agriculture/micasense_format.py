"""MicaSense multi-camera captures (``IMG_nnnn_1.tif`` … ``IMG_nnnn_5.tif``) as one multi-band item.

A MicaSense RedEdge (or Altum, RedEdge-MX) fires one camera per band at once and writes
one 16-bit TIFF per band, named ``IMG_<capture>_<band>.tif``, with the band's name and
centre wavelength in the XMP packet (``Camera:BandName``, ``Camera:CentralWavelength``) and
the sensor's dark offset in the ``BlackLevel`` tag (MicaSense's ``imageprocessing``
library documents this layout). :class:`MicaSenseFormat` groups the band files of one
capture (same folder, same capture number, ``Make`` tag ``MicaSense``) into one H×W×bands
item in band-number order, with ``band_names``, ``wavelengths_nm``, ``black_level`` (per
band) and ``band_registration = "raw"`` in meta: the bands come from separate lenses and
are *not* co-registered (10–15 px apart on the RedEdge; see
:mod:`domaug_agriculture.camera_presets`). Band files of different sizes stay separate items.

Writing puts each band back into its own file (uncompressed, same dtype) with the source
file's ``Make``, ``Model``, ``Software``, ``DateTime``, XMP and ``BlackLevel`` tags and the
provenance JSON as its ImageDescription; the EXIF and GPS sub-directories are not copied.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import Format, FormatError, check_not_empty

#: ``IMG_0001_3`` (and the outputs ``IMG_0001_3.aug0``): capture stem, band number, variant tail
CAPTURE_FILE = re.compile(r"^(?P<capture>.*IMG_\d+)_(?P<band>\d{1,2})(?P<tail>\.aug\d+)?$", re.IGNORECASE)
TIFF_MAGICS = (b"II*\x00", b"MM\x00*")
#: XMP band names → domaug band roles
ROLE_OF = {"blue": "blue", "green": "green", "red": "red", "nir": "nir", "red edge": "rededge",
           "rededge": "rededge", "panchro": "pan", "lwir": "lwir"}
#: TIFF tags copied from the source file on write (Make, Model, Software, DateTime, XMP,
#: BlackLevelRepeatDim, BlackLevel)
COPIED_TAGS = (271, 272, 305, 306, 700, 50713, 50714)


def _capture_key(path: Path) -> tuple[str, str, str] | None:
    m = CAPTURE_FILE.match(Path(path).stem)
    return None if m is None else (str(Path(path).parent), m.group("capture").lower(), (m.group("tail") or "").lower())


def _band_number(path: Path) -> int:
    m = CAPTURE_FILE.match(Path(path).stem)
    return int(m.group("band")) if m else 0


def _xmp_value(xmp: str, name: str) -> str | None:
    """``<Camera:name>value</Camera:name>`` (or the attribute form ``Camera:name="value"``) of an XMP packet."""
    m = re.search(rf"<Camera:{name}>([^<]*)</Camera:{name}>", xmp) or re.search(rf'Camera:{name}="([^"]*)"', xmp)
    return m.group(1).strip() if m else None


def _band_file(path: Path) -> tuple[np.ndarray, dict[str, Any]]:
    """(pixels, facts) of one band file: band role, wavelength, black level, camera model."""
    import tifffile

    try:
        with tifffile.TiffFile(path) as tif:
            page = tif.pages[0]
            tags = page.tags
            make = str(tags["Make"].value).strip() if "Make" in tags else ""
            xmp = tags["XMP"].value if "XMP" in tags else b""
            xmp = xmp.decode("utf-8", "replace") if isinstance(xmp, (bytes, bytearray)) else str(xmp)
            black = tags["BlackLevel"].value if "BlackLevel" in tags else None
            model = str(tags["Model"].value).strip() if "Model" in tags else ""
            image = page.asarray()
    except Exception as exc:  # noqa: BLE001 - any decoder error means a broken file
        msg = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise FormatError(path, f"truncated or corrupt MicaSense TIFF: {msg}") from None
    if image.ndim != 2:
        raise FormatError(path, f"a MicaSense band file holds one band, this one has shape {image.shape}")
    name = (_xmp_value(xmp, "BandName") or "").lower()
    wavelength = _xmp_value(xmp, "CentralWavelength")
    facts = {"make": make, "model": model, "role": ROLE_OF.get(name, name or "unknown"),
             "wavelength_nm": float(wavelength) if wavelength else None,
             "black_level": float(np.mean(black)) if black is not None else 0.0}
    return image, facts


class MicaSenseFormat(Format):
    """One capture of a MicaSense multispectral camera: one TIFF per band, stacked into one item."""

    name = "micasense"
    extensions = ()
    priority = 5  # above the core's plain TIFF (0), below GeoTIFF (10): raw captures carry no georeferencing

    def sniff(self, path: Path, head: bytes) -> bool:
        if head[:4] not in TIFF_MAGICS or _capture_key(path) is None:
            return False
        try:
            import tifffile

            with tifffile.TiffFile(path) as tif:
                tags = tif.pages[0].tags
                return "Make" in tags and str(tags["Make"].value).strip().lower() == "micasense"
        except Exception:  # noqa: BLE001 - not readable as a MicaSense TIFF: another format's file
            return False

    def group(self, paths: Sequence[Path]) -> list[list[Path]]:
        """The band files of one capture (same folder, capture number and variant) together, by band number."""
        groups: dict[tuple, list[Path]] = {}
        for p in paths:
            groups.setdefault(_capture_key(Path(p)) or (str(p), "", ""), []).append(Path(p))
        return sorted((sorted(g, key=_band_number) for g in groups.values()), key=lambda item: str(item[0]))

    def read(self, paths: Sequence[Path]) -> dict[str, Any]:
        planes, facts = [], []
        for p in paths:
            check_not_empty(Path(p))
            image, f = _band_file(Path(p))
            if planes and (image.shape != planes[0].shape or image.dtype != planes[0].dtype):
                raise FormatError(p, f"band {image.shape} {image.dtype} does not match band 1 of the capture "
                                     f"({planes[0].shape} {planes[0].dtype})")
            planes.append(image)
            facts.append(f)
        image = planes[0] if len(planes) == 1 else np.stack(planes, axis=-1)
        meta: dict[str, Any] = {
            "format": self.name,
            "band_names": [f["role"] for f in facts],
            "black_level": [f["black_level"] for f in facts],
            "camera": f"{facts[0]['make']} {facts[0]['model']}".strip(),
            "band_registration": "raw",
            "capture_files": [Path(p).name for p in paths],
            "bit_depth": image.dtype.itemsize * 8,
        }
        if all(f["wavelength_nm"] for f in facts):
            meta["wavelengths_nm"] = [f["wavelength_nm"] for f in facts]
        return {"image": image, "meta": meta}

    def write(self, sample: Mapping[str, Any], dest: Sequence[Path], *, sources: Sequence[Path],
              provenance: Mapping[str, Any]) -> list[Path]:
        import tifffile

        image = np.asarray(sample["image"])
        planes = [image] if image.ndim == 2 else [image[..., b] for b in range(image.shape[-1])]
        if len(planes) != len(dest):
            raise FormatError(Path(dest[0]), f"{len(planes)} bands for {len(dest)} band files")
        description = json.dumps(dict(provenance), sort_keys=True, separators=(",", ":"))
        for k, (plane, target) in enumerate(zip(planes, dest)):
            source = Path(sources[k]) if k < len(sources) else None
            tifffile.imwrite(target, np.ascontiguousarray(plane), photometric="minisblack",
                             description=description, extratags=_copied_tags(source), metadata=None)
        return [Path(d) for d in dest]


def _copied_tags(source: Path | None) -> list[tuple]:
    """``extratags`` for tifffile: the :data:`COPIED_TAGS` of the source band file, as they were."""
    if source is None or not source.exists():
        return []
    import tifffile

    out = []
    with tifffile.TiffFile(source) as tif:
        for tag in tif.pages[0].tags.values():
            if tag.code in COPIED_TAGS:
                out.append((tag.code, int(tag.dtype), tag.count, tag.value, False))
    return out
