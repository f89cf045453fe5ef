"""One-band-per-file products (Landsat ``*_B4.tif``, Sentinel-2 ``*_B04.tif``) as one multi-band item.

``group_band_files`` puts files named ``<stem>_B<n>.tif`` (same folder, same stem) that
share one grid (size, transform, CRS, single band) into one item, bands in band-number
order (``8A`` after 8), so that a cloud or a haze falls on every band alike. Files on
other grids (Sentinel-2 60 m B01 beside 20 m B05) stay separate items.

Band roles: Landsat-8/9 OLI numbering when a ``*MTL.txt`` sits beside the files or the
numbers are not zero-padded, Sentinel-2 MSI when they are (``B02``, ``B8A``). A Landsat
MTL file also gives ``sun_azimuth_deg``, ``sun_elevation_deg``, ``spacecraft``, ``sensor``,
``processing_level`` (e.g. "L1T") and per-band
``reflectance_gain`` / ``reflectance_offset`` (``REFLECTANCE_MULT/ADD_BAND_n``).
Writing puts each band back into its own file with that file's metadata.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Mapping, Sequence

import numpy as np

from domaug.kit import FormatError

from .geotiff_read import quiet

BAND_FILE = re.compile(r"^(?P<stem>.+?)[_-]B(?P<band>\d{1,2}|8A)$", re.IGNORECASE)
LANDSAT_OLI = {1: "coastal", 2: "blue", 3: "green", 4: "red", 5: "nir", 6: "swir1", 7: "swir2", 8: "pan",
               9: "cirrus", 10: "tir1", 11: "tir2"}
SENTINEL2 = {"01": "coastal", "02": "blue", "03": "green", "04": "red", "05": "rededge1", "06": "rededge2",
             "07": "rededge3", "08": "nir", "8A": "nir08", "09": "watervapour", "10": "cirrus", "11": "swir1",
             "12": "swir2"}


def _band_key(label: str) -> tuple[int, int]:
    label = label.upper()
    return (8, 1) if label == "8A" else (int(label), 0)


def _grid(path: Path):
    import rasterio

    ctx = quiet()
    try:
        with rasterio.open(path) as src:
            return (src.count, src.width, src.height, tuple(src.transform)[:6], str(src.crs), src.dtypes[0])
    except Exception:  # noqa: BLE001 - unreadable files stay single items and fail at read
        return None
    finally:
        ctx.__exit__(None, None, None)


def group_band_files(paths: Sequence[Path]) -> list[list[Path]]:
    """Items: band files of one product on one grid together, everything else alone."""
    groups: dict[tuple, list[Path]] = {}
    items: list[list[Path]] = []
    for p in paths:
        m = BAND_FILE.match(Path(p).stem)
        if m is None:
            items.append([Path(p)])
            continue
        groups.setdefault((str(Path(p).parent), m.group("stem").lower()), []).append(Path(p))
    for members in groups.values():
        by_grid: dict[Any, list[Path]] = {}
        for p in members:
            grid = _grid(p)
            if grid is None or grid[0] != 1:
                items.append([p])
            else:
                by_grid.setdefault(grid, []).append(p)
        for same in by_grid.values():
            if len(same) == 1:
                items.append(same)
            else:
                items.append(sorted(same, key=lambda q: _band_key(BAND_FILE.match(q.stem).group("band"))))
    return sorted(items, key=lambda item: str(item[0]))


def find_mtl(path: Path) -> Path | None:
    """A Landsat ``*MTL.txt`` beside ``path`` (same product stem, else the only one)."""
    m = BAND_FILE.match(path.stem)
    stem = m.group("stem").lower() if m else path.stem.lower()
    candidates = sorted(q for q in path.parent.glob("*") if q.name.upper().endswith("MTL.TXT"))
    for q in candidates:
        if q.name.lower().startswith(stem):
            return q
    return candidates[0] if len(candidates) == 1 else None


def parse_mtl(path: Path) -> dict[str, str]:
    values: dict[str, str] = {}
    for line in path.read_text(errors="replace").splitlines():
        if "=" in line:
            key, value = (x.strip() for x in line.split("=", 1))
            values[key.upper()] = value.strip('"')
    return values


def roles_for(labels: Sequence[str], landsat: bool) -> list[str]:
    if landsat:
        return [LANDSAT_OLI.get(int(b), "unknown") if b.isdigit() else "unknown" for b in labels]
    return [SENTINEL2.get(b.upper().zfill(2) if b.isdigit() else b.upper(), "unknown") for b in labels]


def read_stack(fmt, paths: Sequence[Path]) -> dict[str, Any]:
    """Read the band files of one item into an H×W×bands sample."""
    parts = [fmt.read([p]) for p in paths]
    shapes = {part["image"].shape for part in parts}
    if len(shapes) != 1 or parts[0]["image"].ndim != 2:
        raise FormatError(paths[0], f"band files differ in shape {sorted(shapes)}; they cannot form one item")
    labels = [BAND_FILE.match(Path(p).stem).group("band") for p in paths]
    mtl_path = find_mtl(Path(paths[0]))
    meta = _stack_meta([part["meta"] for part in parts], labels, _is_landsat(labels, mtl_path))
    if mtl_path is not None:
        meta.update(_mtl_facts(parse_mtl(mtl_path), labels))
    sample: dict[str, Any] = {"image": np.stack([part["image"] for part in parts], axis=-1), "meta": meta}
    sample.update(_stack_targets(parts))
    return sample


def _is_landsat(labels: Sequence[str], mtl_path: Path | None) -> bool:
    """Landsat OLI numbering when an MTL file is beside the files or no band number is zero-padded."""
    return mtl_path is not None or not any(b.startswith("0") or b.upper() == "8A" for b in labels)


def _stack_targets(parts: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """``valid`` where every band file is valid, and the sidecars of the first band file."""
    targets: dict[str, Any] = {}
    valids = [part["valid"] for part in parts if "valid" in part]
    if valids:
        targets["valid"] = np.logical_and.reduce(valids)
    for key, value in parts[0].items():
        if key not in ("image", "meta", "valid", "alpha_mask"):
            targets[key] = value
    return targets


def _stack_meta(metas: Sequence[Mapping[str, Any]], labels: Sequence[str], landsat: bool) -> dict[str, Any]:
    """The first file's meta with per-band lists gathered from every file, band roles from the
    band numbers, and every file's own meta (to write each band back into its file)."""
    meta = dict(metas[0])
    for key in ("scales", "offsets", "units", "band_descriptions"):
        meta[key] = [m[key][0] for m in metas]
    meta["band_names"] = roles_for(labels, landsat)
    meta.pop("wavelengths_nm", None)
    if any(m.get("wavelengths_nm") for m in metas):
        meta["wavelengths_nm"] = [(m.get("wavelengths_nm") or [None])[0] for m in metas]
    meta["geotiff_files"] = list(metas)
    return meta


def _mtl_facts(mtl: Mapping[str, str], labels: Sequence[str]) -> dict[str, Any]:
    """Sun position and per-band reflectance gain/offset from a Landsat MTL file."""
    facts: dict[str, Any] = {}
    for key, name in (("SUN_AZIMUTH", "sun_azimuth_deg"), ("SUN_ELEVATION", "sun_elevation_deg")):
        if key in mtl:
            facts[name] = float(mtl[key])
    for key, name in (("SPACECRAFT_ID", "spacecraft"), ("SENSOR_ID", "sensor"), ("DATA_TYPE", "processing_level")):
        if mtl.get(key):
            facts[name] = str(mtl[key]).strip('"')
    gains = [mtl.get(f"REFLECTANCE_MULT_BAND_{int(b)}") if b.isdigit() else None for b in labels]
    if all(g is not None for g in gains):
        facts["reflectance_gain"] = [float(g) for g in gains]
        facts["reflectance_offset"] = [float(mtl.get(f"REFLECTANCE_ADD_BAND_{int(b)}", 0.0)) for b in labels]
    return facts


def write_stack(fmt, sample: Mapping[str, Any], dest: Sequence[Path], *, sources: Sequence[Path],
                provenance: Mapping[str, Any]) -> list[Path]:
    """Each band back into its own file (the first also gets the item's sidecars)."""
    image = np.asarray(sample["image"])
    meta = sample.get("meta") or {}
    metas = list(meta.get("geotiff_files") or [])
    if image.ndim != 3 or image.shape[2] != len(dest) or len(metas) != len(dest):
        raise FormatError(dest[0], f"{len(dest)} band files but an image of shape {image.shape}")
    written: list[Path] = []
    for b, target in enumerate(dest):
        written += fmt.write(_band_sample(sample, metas[b], b), [target],
                             sources=[sources[b]] if b < len(sources) else [], provenance=provenance)
    return written


def _band_sample(sample: Mapping[str, Any], file_meta: Mapping[str, Any], b: int) -> dict[str, Any]:
    """Band ``b`` of a stacked sample as the sample of its own file (the first band carries the sidecars)."""
    meta = sample.get("meta") or {}
    band_meta = dict(file_meta)
    for key in ("transform", "crs", "nodata"):
        band_meta[key] = meta.get(key)
    band = {"image": np.ascontiguousarray(np.asarray(sample["image"])[..., b]), "meta": band_meta}
    if sample.get("valid") is not None:
        band["valid"] = sample["valid"]
    if b == 0:
        band.update({k: v for k, v in sample.items() if k not in ("image", "meta", "valid", "applied")})
    return band
