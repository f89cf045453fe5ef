"""GeoTIFF metadata ↔ domaug ``meta``: band roles, wavelengths, tags, profile (rasterio, lazily).

Pure helpers used by :mod:`domaug_satellite.geotiff_format`; rasterio objects are passed
in, never imported at module level.
"""

from __future__ import annotations

import re
import struct
from pathlib import Path
from typing import Any, Mapping

import numpy as np

from .bands import DEFAULT_WAVELENGTHS_NM

MAGICS = (b"II*\x00", b"MM\x00*", b"II+\x00", b"MM\x00+")
#: GeoTIFF tags (ModelPixelScale, ModelTiepoint, ModelTransformation, GeoKeyDirectory)
#: and GDAL's own (GDAL_METADATA, GDAL_NODATA): either makes a TIFF ours
GEO_TAGS = {33550, 33922, 34264, 34735, 42112, 42113}
#: colour interpretation → band role
COLORINTERP_ROLE = {"red": "red", "green": "green", "blue": "blue", "gray": None, "undefined": None}
#: creation options kept from the source profile
PROFILE_KEYS = ("compress", "predictor", "tiled", "blockxsize", "blockysize", "interleave", "zlevel",
                "bigtiff", "photometric")
STALE_TAG = re.compile(r"^STATISTICS_|^_?DOMAUG_", re.IGNORECASE)
_ROLE_WORDS = [
    (re.compile(r"\b(coastal|aerosol)\b|^b0?1$", re.I), "coastal"),
    (re.compile(r"\bblue\b|^b0?2$", re.I), "blue"),
    (re.compile(r"\bgreen\b|^b0?3$", re.I), "green"),
    (re.compile(r"red ?edge|rededge|\bre\d?\b|^b0?[567]$", re.I), "rededge"),
    (re.compile(r"\bred\b|^b0?4$", re.I), "red"),
    (re.compile(r"\b(nir|near.?infrared)\b|^b0?8a?$", re.I), "nir"),
    (re.compile(r"swir.?1|^b11$", re.I), "swir1"),
    (re.compile(r"swir.?2|^b12$", re.I), "swir2"),
    (re.compile(r"cirrus|^b10$", re.I), "cirrus"),
    (re.compile(r"water.?vapou?r|^b09$", re.I), "watervapour"),
]


def role_from_text(text: str | None) -> str | None:
    """A band role from a description such as "Red", "NIR", "B8A", "rededge"."""
    if not text:
        return None
    t = text.strip()
    if t.lower() in DEFAULT_WAVELENGTHS_NM:
        return t.lower()
    for pattern, role in _ROLE_WORDS:
        if pattern.search(t):
            return role
    return None


def band_roles(colorinterp: list[str], descriptions: list[str | None]) -> list[str] | None:
    """Roles from descriptions first, then colour interpretation; None if nothing is known.

    Three bands red/green/blue followed by one undefined band are taken as R,G,B,NIR.
    """
    roles: list[str | None] = []
    for ci, desc in zip(colorinterp, descriptions):
        roles.append(role_from_text(desc) or COLORINTERP_ROLE.get(ci))
    if all(r is None for r in roles):
        return None
    if len(roles) == 4 and roles[:3] == ["red", "green", "blue"] and roles[3] is None:
        roles[3] = "nir"
    return [r or "unknown" for r in roles]


def wavelength_from_tags(tags: Mapping[str, str]) -> float | None:
    """Band centre wavelength (nm) from GDAL IMAGERY/ENVI-style band tags."""
    for key, value in tags.items():
        k = key.upper()
        try:
            v = float(str(value).split()[0])
        except (ValueError, IndexError):
            continue
        if k in ("CENTRAL_WAVELENGTH_UM",):
            return v * 1000.0
        if k in ("WAVELENGTH", "CENTRAL_WAVELENGTH", "CENTRE_WAVELENGTH", "CENTER_WAVELENGTH", "WAVELENGTH_NM"):
            units = str(tags.get("wavelength_units", tags.get("WAVELENGTH_UNITS", ""))).lower()
            if "micro" in units or units in ("um", "µm") or v < 20:
                return v * 1000.0
            return v
    return None


def fresh_tags(tags: Mapping[str, str]) -> dict[str, str]:
    """Tags without stale statistics (``STATISTICS_*``) or earlier provenance stamps."""
    return {k: str(v) for k, v in tags.items() if not STALE_TAG.match(k)}


def profile_of(src) -> dict[str, Any]:
    """The creation options worth keeping, as plain values."""
    profile = src.profile
    out: dict[str, Any] = {}
    for key in PROFILE_KEYS:
        if key in profile and profile[key] is not None:
            value = profile[key]
            out[key] = value if isinstance(value, (bool, int, float)) else str(value)
    return out


def provenance_tags(provenance: Mapping[str, Any]) -> dict[str, str]:
    import json

    tags = {
        "DOMAUG_PIPELINE": str(provenance.get("pipeline_hash", "")),
        "DOMAUG_SEED": str(provenance.get("seed_key", "")),
        "DOMAUG_VERSION": str(provenance.get("domaug_version", "")),
    }
    if provenance.get("applied") is not None:
        tags["DOMAUG_APPLIED"] = json.dumps(provenance["applied"], sort_keys=True, separators=(",", ":"))
    return {k: v for k, v in tags.items() if v}


def nodata_for(dtype: np.dtype, nodata: Any) -> Any:
    """A nodata value as the dtype's Python scalar (int for integer rasters)."""
    if nodata is None:
        return None
    nodata = float(nodata)
    if np.issubdtype(np.dtype(dtype), np.integer) and np.isfinite(nodata) and nodata == int(nodata):
        return int(nodata)
    return nodata


def tiff_tags(path: Path, head: bytes) -> set[int]:
    """Tag numbers of the first IFD (classic or BigTIFF), reading the file when the IFD
    lies beyond ``head``."""
    endian = "<" if head[:2] == b"II" else ">"
    big = head[2:4] in (b"+\x00", b"\x00+")
    try:
        with open(path, "rb") as f:
            if big:
                f.seek(8)
                (offset,) = struct.unpack(endian + "Q", f.read(8))
                f.seek(offset)
                (count,) = struct.unpack(endian + "Q", f.read(8))
                size = 20
            else:
                f.seek(4)
                (offset,) = struct.unpack(endian + "I", f.read(4))
                f.seek(offset)
                (count,) = struct.unpack(endian + "H", f.read(2))
                size = 12
            if count > 4096:
                return set()
            data = f.read(count * size)
    except (OSError, struct.error):
        return set()
    return {struct.unpack(endian + "H", data[i:i + 2])[0] for i in range(0, len(data) - size + 1, size)}


def wants_cog(meta: Mapping[str, Any]) -> bool:
    """COG output on request: ``meta["geotiff_cog"]`` or ``DOMAUG_GEOTIFF_COG=1``."""
    import os

    return bool(meta.get("geotiff_cog")) or os.environ.get("DOMAUG_GEOTIFF_COG", "") not in ("", "0")


def to_cog(staging: Path, target: Path, meta: Mapping[str, Any]) -> None:
    """Copy a finished GTiff into a Cloud-Optimized GeoTIFF (overviews, 256-px tiles)."""
    from rasterio.shutil import copy

    compress = str((meta.get("geotiff_profile") or {}).get("compress") or "deflate")
    copy(staging, target, driver="COG", compress=compress, blocksize=256)
